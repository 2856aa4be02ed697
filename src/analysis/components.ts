// Every analysis stage component, for the composition root's registry of component types.
import { averageNode } from "./average-node.js";
import { binByNode } from "./bin-by-node.js";
import { fitNode } from "./fit-node.js";
import { histogramNode } from "./histogram-node.js";
import { normaliseNode } from "./normalise-node.js";
import { qualityNode } from "./quality-node.js";
import { rateNode } from "./rate-node.js";
import { roiNode } from "./roi-node.js";
import { roiWorkerNode } from "./roi-worker-node.js";
import { frameAverageNode } from "./frame-average-node.js";

/**
 * The analysis stage types: `rate`, `histogram`, `roi-sum`, `normalise`, `bin-by`, `running-average`, `fit`,
 * `quality-rule`.
 * @example const types = new Map(ANALYSIS_COMPONENTS.map((d) => [d.type, d]));
 */
export const ANALYSIS_COMPONENTS = [
  rateNode,
  histogramNode,
  roiNode,
  normaliseNode,
  binByNode,
  averageNode,
  fitNode,
  qualityNode,
  roiWorkerNode,
  frameAverageNode,
] as const;
