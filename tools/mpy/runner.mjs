// Line-oriented bridge between pytest and one MicroPython (WebAssembly) interpreter.
//
// Requests arrive as JSON lines on stdin; each gets one JSON line back on stdout:
//   {"op": "write", "files": {"/lib/lpwa/x.py": "..."}}   -> {"ok": true}
//   {"op": "run", "code": "print(1)"}                      -> {"ok": true, "stdout": "1\n"}
//   a MicroPython exception                               -> {"ok": false, "error": "<traceback>", "stdout": "..."}
// One interpreter serves the whole test session, so calls cost milliseconds.
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";
import readline from "node:readline";

const heapsize = parseInt(process.env.LPWA_MPY_HEAP || String(16 * 1024 * 1024), 10);
let captured = [];
const mp = await loadMicroPython({
  heapsize,
  linebuffer: false,
  stdout: (bytes) => captured.push(Buffer.from(bytes)),
  stderr: (bytes) => captured.push(Buffer.from(bytes)),
});

function mkdirs(path) {
  const dir = path.substring(0, path.lastIndexOf("/"));
  if (dir) mp.FS.mkdirTree(dir);
}

function handle(req) {
  if (req.op === "write") {
    for (const [path, text] of Object.entries(req.files)) {
      mkdirs(path);
      mp.FS.writeFile(path, text);
    }
    return { ok: true };
  }
  if (req.op === "run") {
    captured = [];
    try {
      mp.runPython(req.code);
      return { ok: true, stdout: Buffer.concat(captured).toString("utf8") };
    } catch (e) {
      return { ok: false, error: String(e.message || e), stdout: Buffer.concat(captured).toString("utf8") };
    }
  }
  return { ok: false, error: "runner: unknown op " + req.op, stdout: "" };
}

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
process.stdout.write(JSON.stringify({ ok: true, ready: true, version: "micropython" }) + "\n");
for await (const line of rl) {
  if (!line.trim()) continue;
  let reply;
  try {
    reply = handle(JSON.parse(line));
  } catch (e) {
    reply = { ok: false, error: "runner: " + String(e), stdout: "" };
  }
  process.stdout.write(JSON.stringify(reply) + "\n");
}
