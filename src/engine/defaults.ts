/**
 * The target a run assumes where the project and the flags say nothing. A module of its own so
 * that resolving the settings (which a warm run does before it knows whether to analyse) does not
 * load the engine.
 */
import type { Target } from "./rule-types.js";

/** The newest Django LTS, assumed when the project does not say. */
export const DEFAULT_DJANGO: [number, number] = [5, 2];

export const DEFAULT_TARGET: Target = {
  database: "postgresql",
  postgresVersion: 15,
  django: DEFAULT_DJANGO,
  defaultStage: "pre",
  timeoutsSetByRunner: false,
  markerStyle: null,
  tables: { partitioned: [], hot: [], large: [] },
};
