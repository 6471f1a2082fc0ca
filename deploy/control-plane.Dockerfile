# syntax=docker/dockerfile:1
# Control plane image. Build from the repository root:
#   docker build -f deploy/control-plane.Dockerfile -t meridian/control-plane .
# TypeScript runs through tsx (a runtime dependency), so there is no build step.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# npm ci checks the lock file against every workspace's package.json, so all of them are copied.
COPY package.json package-lock.json ./
COPY contracts/package.json contracts/
COPY services/control-plane/package.json services/control-plane/
COPY agent/package.json agent/
COPY test/package.json test/
RUN npm ci --omit=dev --workspace @meridian/control-plane --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
# The whole tree: node_modules, and any workspace-level node_modules npm nested.
COPY --from=deps /app ./
# tsx reads the root tsconfig.json (decorators for TypeORM entities).
COPY tsconfig.json ./
COPY contracts/src contracts/src
COPY services/control-plane/src services/control-plane/src
WORKDIR /app/services/control-plane
USER node
EXPOSE 8080
# `node --import tsx` rather than the tsx CLI: one process, PID 1 receives SIGTERM itself.
CMD ["node", "--import", "tsx", "src/main.ts"]
