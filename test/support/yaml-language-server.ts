/**
 * The real yaml-language-server (the npm package), driven over LSP on stdio the way an editor
 * drives it: JSON-RPC messages framed by Content-Length headers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";

export interface LspDiagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  message: string;
  severity?: number;
  source?: string;
}

interface Message {
  id?: number;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { message: string };
}

/** Every answer the tests wait for comes within this, or the wait fails naming what it waited for. */
const ANSWER_TIMEOUT_MS = 20_000;
/** However a test run ends, the server does not outlive this. */
const LIFETIME_MS = 5 * 60_000;

function withinTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`yaml-language-server did not answer ${what} within ${ANSWER_TIMEOUT_MS} ms`)), ANSWER_TIMEOUT_MS)));
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

const packageJson = createRequire(import.meta.url).resolve("yaml-language-server/package.json");
export const YAML_LANGUAGE_SERVER_VERSION: string = JSON.parse(readFileSync(packageJson, "utf8")).version;

export class YamlLanguageServer {
  private readonly child: ChildProcess;
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private readonly waiting = new Map<string, (diagnostics: LspDiagnostic[]) => void>();
  private stderr = "";
  private version = 0;
  /** The settings sections the server pulls with workspace/configuration, as an editor's settings hold them. */
  private readonly settings: Record<string, unknown>;

  private constructor(settings: Record<string, unknown>) {
    this.settings = settings;
    this.child = spawn(process.execPath, [join(dirname(packageJson), "bin", "yaml-language-server"), "--stdio"], { stdio: ["pipe", "pipe", "pipe"], timeout: LIFETIME_MS, killSignal: "SIGKILL" });
    this.child.stdout!.on("data", (chunk: Buffer) => this.receive(chunk));
    this.child.stderr!.on("data", (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.stdin!.on("error", (error) => this.failPending(new Error(`yaml-language-server's input: ${error.message}`)));
    this.child.on("error", (error) => this.failPending(new Error(`yaml-language-server: ${error.message}`)));
    this.child.on("exit", (code, signal) => this.failPending(new Error(`yaml-language-server exited (${signal ?? code}): ${this.stderr.slice(-2000)}`)));
  }

  private failPending(error: Error): void {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }

  /** Starts the server and configures it to validate every YAML document against `schemaPath`, offline. */
  static async start(schemaPath: string): Promise<YamlLanguageServer> {
    const yaml = { validate: true, completion: true, hover: true, schemaStore: { enable: false }, schemas: { [pathToFileURL(schemaPath).href]: ["*.yaml"] } };
    const server = new YamlLanguageServer({ yaml });
    try {
      await server.request("initialize", {
        processId: process.pid,
        rootUri: null,
        capabilities: {
          workspace: { configuration: true },
          textDocument: { publishDiagnostics: {}, completion: { completionItem: { documentationFormat: ["markdown", "plaintext"] } }, hover: {} },
        },
      });
      server.notify("initialized", {});
      // The server answers this by pulling the settings (workspace/configuration), then applies them asynchronously.
      server.notify("workspace/didChangeConfiguration", { settings: { yaml } });
      await server.untilSchemaApplies();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** Until the settings are applied, documents validate without the schema: wait until a policy of version 2 is flagged. */
  private async untilSchemaApplies(): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const uri = `file:///sstate-keeper-probe-${attempt}.yaml`;
      const diagnostics = await this.diagnose(uri, "version: 2\nrules: []\n");
      this.close(uri);
      if (diagnostics.length > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("yaml-language-server never applied the schema setting");
  }

  /** Opens a document and resolves with the diagnostics the server publishes for it. */
  diagnose(uri: string, text: string): Promise<LspDiagnostic[]> {
    const published = new Promise<LspDiagnostic[]>((resolve) => this.waiting.set(uri, resolve));
    this.notify("textDocument/didOpen", { textDocument: { uri, languageId: "yaml", version: ++this.version, text } });
    return withinTimeout(published, `the diagnostics of ${uri}`);
  }

  /** Completion items at a 0-based position of an open document. */
  async complete(uri: string, line: number, character: number): Promise<{ label: string }[]> {
    const result = (await this.request("textDocument/completion", { textDocument: { uri }, position: { line, character } })) as { items: { label: string }[] };
    return result.items;
  }

  /** The hover text at a 0-based position of an open document. */
  async hover(uri: string, line: number, character: number): Promise<string> {
    const result = (await this.request("textDocument/hover", { textDocument: { uri }, position: { line, character } })) as { contents: { value: string } | string } | null;
    return typeof result?.contents === "string" ? result.contents : (result?.contents.value ?? "");
  }

  close(uri: string): void {
    this.notify("textDocument/didClose", { textDocument: { uri } });
  }

  /** Asks the server to shut down and kills it if it has not exited within a second. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    const killer = setTimeout(() => this.child.kill("SIGKILL"), 1000);
    try {
      await Promise.race([this.request("shutdown", null), exited]);
      this.notify("exit", null);
    } catch {
      // Already gone: the exit handler has seen it.
    }
    await exited;
    clearTimeout(killer);
  }

  private request(method: string, params: unknown): Promise<unknown> {
    const id = this.nextId++;
    const answered = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    this.send({ jsonrpc: "2.0", id, method, params });
    return withinTimeout(answered, method);
  }

  private notify(method: string, params: unknown): void {
    this.send({ jsonrpc: "2.0", method, params });
  }

  private send(message: object): void {
    const body = Buffer.from(JSON.stringify(message), "utf8");
    this.child.stdin!.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "ascii"), body]));
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf("\r\n\r\n");
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: *([0-9]+)/i.exec(this.buffer.subarray(0, headerEnd).toString("ascii"))?.[1]);
      if (this.buffer.length < headerEnd + 4 + length) return;
      const message = JSON.parse(this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString("utf8")) as Message;
      this.buffer = this.buffer.subarray(headerEnd + 4 + length);
      this.dispatch(message);
    }
  }

  private dispatch(message: Message): void {
    if (message.method === undefined) {
      const pending = this.pending.get(message.id!);
      this.pending.delete(message.id!);
      if (message.error) pending?.reject(new Error(`yaml-language-server: ${message.error.message}`));
      else pending?.resolve(message.result);
      return;
    }
    if (message.method === "textDocument/publishDiagnostics") {
      const { uri, diagnostics } = message.params as { uri: string; diagnostics: LspDiagnostic[] };
      this.waiting.get(uri)?.(diagnostics);
      this.waiting.delete(uri);
      return;
    }
    if (message.id === undefined) return;
    if (message.method === "workspace/configuration") {
      const { items } = message.params as { items: { section?: string }[] };
      this.send({ jsonrpc: "2.0", id: message.id, result: items.map((item) => this.settings[item.section ?? ""] ?? null) });
      return;
    }
    // Other requests from the server (capability registration, progress): an editor accepts them.
    this.send({ jsonrpc: "2.0", id: message.id, result: null });
  }
}
