/* version.h: the release version (one source: binaries, /metrics, image tag) and the /metrics families every program shares. */
#ifndef PP_VERSION_H
#define PP_VERSION_H

/*
 * The release version: 5.0.0 is the C rewrite (4.4.3 was the Python
 * original's tag, never reused). The image tag in every manifest, the
 * kustomizations' images: and the build and push commands of docs/kubernetes.md carry it
 * (t/20-manifests.t checks they are equal).
 */
#define PP_VERSION	"5.0.0"

/*
 * pingpong_build_info and process_start_time_seconds, as Prometheus'
 * conventions name them; printf arguments: the program (const char *) and
 * its start in epoch seconds (unsigned long long).
 */
#define PP_METRICS_PROCESS_FMT \
	"# HELP pingpong_build_info The running build: version and program, value 1.\n" \
	"# TYPE pingpong_build_info gauge\n" \
	"pingpong_build_info{version=\"" PP_VERSION "\",program=\"%s\"} 1\n" \
	"# HELP process_start_time_seconds When the program started, in seconds since the epoch.\n" \
	"# TYPE process_start_time_seconds gauge\n" \
	"process_start_time_seconds %llu\n"

#endif
