// Lint rules: typescript-eslint's recommended set plus Hutch's layer rule (imports point down the layers).
import tseslint from "typescript-eslint";
import { layerRule } from "./scripts/eslint-layers.js";

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "var/**", "web/dist/**", "docs/schema/**", "test-output/**"] },
  ...tseslint.configs.recommended,
  {
    plugins: { hutch: { rules: { layers: layerRule } } },
    rules: {
      "hutch/layers": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off",
    },
  },
);
