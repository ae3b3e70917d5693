// Builds the dashboard into dist/ (or --outdir DIR): app.js and app.css bundled and minified by
// esbuild, index.html copied. The same sources give the same bytes (no hashes, no dates).
// `node build.mjs --tests` bundles test/*.test.ts for Node and runs them with node:test.

import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const BUDGET = 150 * 1024; // first load, gzip-compressed (docs/dashboard.md)

async function buildApp(outdir) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await build({
    absWorkingDir: here,
    entryPoints: { app: "src/main.ts" },
    outdir,
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2022", "chrome110", "firefox115", "safari16"],
    legalComments: "eof",
    charset: "utf8",
    sourcemap: false,
    logLevel: "warning",
  });
  copyFileSync(join(here, "index.html"), join(outdir, "index.html"));
  // Envoy serves NAME.br to a browser that accepts brotli (envoy/envoy.yaml.j2): compressed here
  // once at the best quality, the same bytes for the same input.
  const served = readdirSync(outdir).sort();
  for (const name of served) {
    const bytes = readFileSync(join(outdir, name));
    const params = { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length };
    writeFileSync(join(outdir, `${name}.br`), brotliCompressSync(bytes, { params }));
  }
  let total = 0;
  let totalBrotli = 0;
  const lines = [];
  for (const name of served) {
    const bytes = readFileSync(join(outdir, name));
    const gz = gzipSync(bytes, { level: 9 }).length;
    const br = readFileSync(join(outdir, `${name}.br`)).length;
    total += gz;
    totalBrotli += br;
    lines.push(`  ${name.padEnd(12)} ${String(bytes.length).padStart(8)} B  ${String(gz).padStart(7)} B gzip  ${String(br).padStart(7)} B brotli`);
  }
  console.log(
    `built ${outdir}\n${lines.join("\n")}\n  first load   ${String(total).padStart(18)} B gzip  ${String(totalBrotli).padStart(7)} B brotli (budget ${BUDGET} B gzip)`,
  );
  if (total > BUDGET) {
    console.error(`the first load is over the budget: ${total} > ${BUDGET} bytes gzip`);
    process.exit(1);
  }
}

async function runTests() {
  const outdir = join(here, ".test-build");
  rmSync(outdir, { recursive: true, force: true });
  const tests = readdirSync(join(here, "test")).filter((n) => n.endsWith(".test.ts")).map((n) => `test/${n}`);
  await build({
    absWorkingDir: here,
    entryPoints: tests,
    outdir,
    bundle: true,
    platform: "node",
    format: "esm",
    outExtension: { ".js": ".mjs" },
    logLevel: "warning",
  });
  const files = readdirSync(outdir).filter((n) => n.endsWith(".mjs")).map((n) => join(outdir, n));
  const result = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" });
  process.exit(result.status ?? 1);
}

if (args.includes("--tests")) {
  await runTests();
} else {
  const index = args.indexOf("--outdir");
  await buildApp(index >= 0 ? resolve(args[index + 1]) : join(here, "dist"));
}
