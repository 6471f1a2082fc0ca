# syntax=docker/dockerfile:1
# Agent image. Build from the repository root:
#   docker build -f deploy/agent.Dockerfile -t meridian/agent .
# TypeScript runs through tsx (a runtime dependency), so there is no build step.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# npm ci checks the lock file against every workspace's package.json, so all of them are copied.
COPY package.json package-lock.json ./
COPY contracts/package.json contracts/
COPY services/control-plane/package.json services/control-plane/
COPY agent/package.json agent/
COPY test/package.json test/
RUN npm ci --omit=dev --workspace @meridian/agent --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# The whole tree: node_modules, and any workspace-level node_modules npm nested.
COPY --from=deps /app ./
COPY tsconfig.json ./
COPY contracts/src contracts/src
COPY agent/src agent/src
WORKDIR /app/agent
USER node
# `node --import tsx` rather than the tsx CLI: one process, PID 1 receives SIGTERM itself.
CMD ["node", "--import", "tsx", "src/main.ts"]
