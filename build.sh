#!/bin/sh
# build.sh: builds and tags the image, as the original README says:
#   ./build.sh ping-pong-app:v1.0
# Uses docker when present, else podman.
set -eu
tag=${1:?usage: ./build.sh IMAGE:TAG}
cd "$(dirname "$0")"
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
	engine=docker
elif command -v podman >/dev/null 2>&1; then
	engine=podman
	export BUILDAH_FORMAT=docker	# keeps HEALTHCHECK
else
	echo "build.sh: neither docker nor podman is available" >&2
	exit 1
fi
$engine build --network host -t "$tag" .
echo "build.sh: built $tag with $engine"
