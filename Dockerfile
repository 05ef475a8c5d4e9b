# Dockerfile: one image, every role (app, authproxy, log-output, all).
# The build stage compiles with the project's own Makefile; the runtime
# stage has only runtime packages and the built programs, runs as a
# non-root user under tini, and needs nothing writable but the runtime
# directory (mount a tmpfs/emptyDir at /run/pingpong for a read-only root).

FROM docker.io/library/debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc make libc6-dev libfcgi-dev \
      libpq-dev libcurl4-openssl-dev libjansson-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY common ./common
COPY fcgi ./fcgi
COPY authproxy ./authproxy
COPY logoutput ./logoutput
COPY launcher ./launcher
COPY sql ./sql
COPY bench ./bench
RUN make all BUILD=build

FROM docker.io/library/debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx spawn-fcgi multiwatch \
      libfcgi0ldbl libpq5 libcurl4 libjansson4 tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/log/nginx/* \
 && useradd --system --uid 10001 --user-group --home-dir /nonexistent --shell /usr/sbin/nologin pingpong \
 && mkdir -p /run/pingpong \
 && chown pingpong:pingpong /run/pingpong
COPY --from=build /src/build/pingpong-worker /src/build/pingpong-authproxy /src/build/pingpong-logoutput \
     /src/build/pp_limits.env /src/build/pingpong-supervise /usr/local/lib/pingpong/
COPY bin/pingpong bin/pingpong-healthcheck /usr/local/bin/
COPY nginx /usr/local/share/pingpong/nginx
ENV PP_LIBEXEC=/usr/local/lib/pingpong \
    PP_SHARE=/usr/local/share/pingpong \
    PING_PONG_RUNTIME_DIR=/run/pingpong \
    PING_PONG_ROLE=app
USER 10001:10001
WORKDIR /run/pingpong
EXPOSE 3000 8080 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 CMD ["/usr/local/bin/pingpong-healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/pingpong"]
