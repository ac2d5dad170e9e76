/**
 * The jobs image can't be built here (no Docker engine), so its Dockerfile is parsed and the facts the
 * counterparties depend on are asserted: Node 24 on Debian trixie in every stage, PostgreSQL 17 client
 * tools (pg_dump/pg_restore for servers 13-17, matching the plan's limit), rclone, skopeo and the ECR
 * credential helper the mirror uses, from Debian, and a non-root runtime user.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LIMITS } from '../../lib/core';
import { ECR_CREDENTIAL_HELPER } from '../../lib/runtime/mirror';
import { JOBS_CONTAINER_USER } from '../../lib/aws/nightly-export-pipeline';

interface Stage { readonly from: string; readonly instructions: { op: string; args: string }[] }

/** Instructions (continuation lines joined, comments dropped), grouped by stage. */
export function parseDockerfile(text: string): Stage[] {
  const logical = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, op, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (!op) throw new Error(`not an instruction: ${line}`);
    if (op.toUpperCase() === 'FROM') stages.push({ from: args.split(/\s+/)[0], instructions: [] });
    else stages[stages.length - 1].instructions.push({ op: op.toUpperCase(), args: args.replace(/\s+/g, ' ') });
  }
  return stages;
}

const stages = parseDockerfile(fs.readFileSync(path.join(__dirname, '../../Dockerfile'), 'utf8'));
const runtime = stages[stages.length - 1];
const installed = runtime.instructions.filter((i) => i.op === 'RUN').flatMap((i) => {
  const m = /apt-get install (.*?)(&&|$)/.exec(i.args);
  return m ? m[1].split(/\s+/).filter((w) => w && !w.startsWith('-')) : [];
});

test('every stage is Node 24 on Debian trixie (no Node 20, no bookworm)', () => {
  expect(stages.length).toBeGreaterThanOrEqual(2);
  for (const s of stages) expect(s.from).toMatch(/^node:24(\.\d+)*-trixie-slim$/);
});

test(`the runtime stage installs PostgreSQL ${LIMITS.pgClientMajorVersion} client tools (the plan refuses servers newer than the client), and no older client`, () => {
  expect(installed).toContain(`postgresql-client-${LIMITS.pgClientMajorVersion}`);
  expect(installed.filter((p) => /^postgresql-client-\d+$/.test(p))).toEqual([`postgresql-client-${LIMITS.pgClientMajorVersion}`]);
});

test('rclone, skopeo and the ECR credential helper the mirror names, from Debian, without recommends', () => {
  expect(installed).toEqual(expect.arrayContaining(['rclone', 'skopeo', 'amazon-ecr-credential-helper', 'ca-certificates']));
  // skopeo runs `docker-credential-<helper>` for a credHelpers entry; the Debian package ships docker-credential-ecr-login.
  expect(ECR_CREDENTIAL_HELPER).toBe('ecr-login');
  const install = runtime.instructions.find((i) => i.op === 'RUN' && i.args.includes('apt-get install'))!;
  expect(install.args).toMatch(/--no-install-recommends/);
  expect(install.args).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
});

test('the runtime runs the jobs CLI as the unprivileged node user', () => {
  const users = runtime.instructions.filter((i) => i.op === 'USER').map((i) => i.args);
  expect(users[users.length - 1]).toBe('node');
  expect(runtime.instructions.find((i) => i.op === 'ENTRYPOINT')!.args).toBe('["node", "dist/bin/counterparty-job.js"]');
});

test('/tmp is a declared volume owned by the jobs user, before USER (Fargate copies it into the task bind mount)', () => {
  const ops = runtime.instructions;
  const volume = ops.findIndex((i) => i.op === 'VOLUME' && i.args === '["/tmp"]');
  const user = ops.findIndex((i) => i.op === 'USER');
  const chown = ops.findIndex((i) => i.op === 'RUN' && /chown node:node \/tmp/.test(i.args));
  expect(volume).toBeGreaterThan(-1);
  expect(chown).toBeGreaterThan(-1);
  expect(chown).toBeLessThan(volume);
  expect(volume).toBeLessThan(user);
  // the AWS task definitions run the image as the same user (lib/aws)
  expect(JOBS_CONTAINER_USER).toBe('1000:1000');
});

test('the parser joins continuation lines and drops comments', () => {
  expect(parseDockerfile('# c\nFROM a AS b\nRUN x \\\n  y\nFROM c\nUSER u\n')).toEqual([
    { from: 'a', instructions: [{ op: 'RUN', args: 'x y' }] },
    { from: 'c', instructions: [{ op: 'USER', args: 'u' }] },
  ]);
});
