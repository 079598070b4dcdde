{%- set svc = service %}{{ header }}
// One ES module per Lambda function with its dependencies (esbuild): dist/lambda/<function>.mjs,
// whose `handler` export is the function's handler (`<function>.handler` in the Terraform). CI
// zips each file alone as the function's package.
import { build } from "esbuild";

const FUNCTIONS = [{% for f in svc.ts.functions.functions %}"{{ f.module }}"{% if not loop.last %}, {% endif %}{% endfor %}];

for (const name of FUNCTIONS) {
  await build({
    stdin: { contents: `export { ${name} as handler } from "./src/handlers.ts";`, resolveDir: ".", loader: "ts" },
    bundle: true,
    platform: "node",
    target: "node{{ svc.ts.node_major }}",
    format: "esm",
    outfile: `dist/lambda/${name}.mjs`,
    // The CommonJS dependencies (fastify, pg) call `require` for Node's own modules.
    banner: { js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url);' },
    logLevel: "warning",
  });
}
