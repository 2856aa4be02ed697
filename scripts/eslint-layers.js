// ESLint rule: an import in src/<layer>/ may only point to the same or a lower layer (ARCHITECTURE.md).
import { dirname, relative, resolve, sep } from "node:path";

/** Layer ranks; a module may import from layers of lower or equal rank only. */
export const LAYER_RANK = {
  core: 0,
  codecs: 1,
  transport: 2,
  component: 3,
  sources: 4,
  sim: 4,
  builder: 4,
  analysis: 4,
  storage: 4,
  jobs: 4,
  relay: 4,
  control: 5,
  server: 6,
  cli: 6,
  app: 7,
};

/** Siblings of rank 4 must not import each other (sources/sim are one folder per hardware family). */
const SIBLINGS_ALLOWED = {
  sim: ["sources"],
  builder: [],
  analysis: [],
  storage: [],
  jobs: [],
  relay: [],
  sources: [],
};

const srcRoot = resolve(process.cwd(), "src");
const layerOf = (file) => {
  const rel = relative(srcRoot, file);
  if (rel.startsWith("..")) return undefined;
  return rel.split(sep)[0];
};

/** @type {import('eslint').Rule.RuleModule} */
export const layerRule = {
  meta: {
    type: "problem",
    docs: { description: "imports point down the layers of ARCHITECTURE.md" },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const from = layerOf(file);
    if (!from || !(from in LAYER_RANK) || /\.test\.tsx?$/.test(file)) return {};
    const check = (node, spec) => {
      if (typeof spec !== "string" || !spec.startsWith(".")) return;
      const to = layerOf(resolve(dirname(file), spec));
      if (!to || !(to in LAYER_RANK) || to === from) return;
      const up = LAYER_RANK[to] > LAYER_RANK[from];
      const sideways =
        LAYER_RANK[to] === LAYER_RANK[from] &&
        LAYER_RANK[from] === 4 &&
        !(SIBLINGS_ALLOWED[from] ?? []).includes(to);
      if (up || sideways) {
        context.report({
          node,
          message: `${from}/ must not import ${to}/ (${spec}): layers point downward only; move the shared piece down or pass it in from above.`,
        });
      }
    };
    return {
      ImportDeclaration: (n) => check(n, n.source.value),
      ExportNamedDeclaration: (n) => n.source && check(n, n.source.value),
      ExportAllDeclaration: (n) => check(n, n.source.value),
      ImportExpression: (n) => n.source.type === "Literal" && check(n, n.source.value),
    };
  },
};
