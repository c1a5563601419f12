# syntax=docker/dockerfile:1
# The harness as a container image: `chaos` is the entrypoint, the working directory /work is the
# project directory (chaos.targets.json, scenarios/, reports/, .chaos/ journals). Used by
# examples/kubernetes/cronjob.yaml and built and pushed by examples/github-actions/chaos-image.yml.
#
#   docker build -t chaos-harness .
#   docker run --rm --read-only -v "$PWD:/work" chaos-harness list
#   docker run --rm --read-only -v "$PWD:/work" -v ~/.kube:/tmp/.kube:ro -e KUBECONFIG=/tmp/.kube/config \
#     -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN \
#     chaos-harness az-outage --target aws --yes
#
# Runtime: the packed harness installed globally without dev dependencies, nothing else — no lab
# (no Go, no Kubernetes binaries), no credentials. It runs as uid 10001 and writes only to /tmp
# (HOME and TMPDIR), /work/.chaos and /work/reports, so it works with a read-only root filesystem
# when those are mounted writable (emptyDirs in the CronJob; anonymous volumes under `docker run`).
#
# BASE_IMAGE: any Debian-based image with Node ≥ 20.19 and npm (node:20-bookworm-slim; pin it by
# digest in your build, e.g. --build-arg BASE_IMAGE=node:20-bookworm-slim@sha256:…). Without a
# registry, scripts/build-image.sh makes one from Debian packages (mmdebstrap, trixie's nodejs + npm).
#
# npm behind a TLS-intercepting proxy: pass its CA bundle as the build secret npm_ca
# (--secret id=npm_ca,src=/path/to/ca.pem); npm reads it during the two RUNs that install packages,
# through NODE_EXTRA_CA_CERTS set inside the RUN only — it is never written to a layer or the image's
# ENV. Without that secret those RUNs are unchanged.
ARG BASE_IMAGE=node:20-bookworm-slim

FROM ${BASE_IMAGE} AS build
ENV npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm_ca \
    if [ -f /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm ci
COPY . .
RUN npm run build \
 && mkdir -p /out \
 && npm pack --pack-destination /out \
 && node -p "require('./package.json').name" > /out/name

FROM ${BASE_IMAGE} AS runtime
LABEL org.opencontainers.image.title="k8s-aws-chaos-harness" \
      org.opencontainers.image.description="Chaos harness for Kubernetes on AWS (entrypoint: chaos)"
ENV NODE_ENV=production \
    HOME=/tmp \
    TMPDIR=/tmp \
    npm_config_update_notifier=false
COPY --from=build /out/ /opt/chaos-pkg/
# The package is installed by name for scenario files that import it: /work/node_modules/<name> links
# to the global install (ES module resolution does not look in the global folder).
RUN --mount=type=secret,id=npm_ca \
    if [ -f /run/secrets/npm_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm_ca; fi; \
    npm install --global --omit=dev --no-audit --no-fund --cache /opt/chaos-pkg/cache /opt/chaos-pkg/*.tgz \
 && name="$(cat /opt/chaos-pkg/name)" \
 && mkdir -p /work/.chaos /work/reports /work/scenarios "$(dirname "/work/node_modules/$name")" \
 && ln -s "$(npm root --global)/$name" "/work/node_modules/$name" \
 && groupadd --gid 10001 chaos \
 && useradd --uid 10001 --gid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin chaos \
 && chown 10001:10001 /work/.chaos /work/reports \
 && chaos --help | grep -q 'Usage:' \
 && rm -rf /opt/chaos-pkg \
 && find /tmp -mindepth 1 -delete
WORKDIR /work
USER 10001:10001
VOLUME ["/work/.chaos", "/work/reports", "/tmp"]
ENTRYPOINT ["chaos"]
CMD ["--help"]
