export {
  runFleet,
  formatFleetReport,
  type FleetOptions,
  type FleetProgress,
  type FleetReport,
} from './fleet.ts';
export { SeededRandom } from './rng.ts';
export { lossyNetwork, type LossyNetwork } from './lossy-network.ts';
export { randomEdit, type EditRecord } from './random-edits.ts';
export {
  countEntities,
  diffDeviceFromServer,
  readServerState,
  type ServerState,
} from './server-state.ts';
