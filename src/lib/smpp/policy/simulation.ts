import { STATUS } from '../protocol/status.js';

/**
 * KSMPPD's simulation (`simulate` and the four `simulate_*_every` columns): nothing reaches a modem
 * and nothing is billed; the Nth submit of the account gets a fake outcome. KSMPPD counts every PDU
 * of the bind (enquire_links too), which makes "every Nth" drift with keep-alives; here the count is
 * the account's submits, over all its binds, so a test of "every 3rd" is repeatable.
 * A temporary failure wins over a permanent one when both divide the count (KSMPPD's order).
 */

/** KSMPPD's simulation settings of an account: fake answers every Nth submit (0 = never). */
export interface Simulation {
  deliverEvery: number;
  permanentFailureEvery: number;
  temporaryFailureEvery: number;
  moEvery: number;
}

export type SimulatedOutcome =
  { status: number; reason: string } | { status: typeof STATUS.ROK; deliver: boolean; mo: boolean };

export function simulateSubmit(sim: Simulation, count: number): SimulatedOutcome {
  const every = (n: number): boolean => n > 0 && count % n === 0;
  if (every(sim.temporaryFailureEvery))
    return {
      status: STATUS.RMSGQFUL,
      reason: `simulated temporary failure (every ${sim.temporaryFailureEvery})`,
    };
  if (every(sim.permanentFailureEvery))
    return {
      status: STATUS.RSUBMITFAIL,
      reason: `simulated permanent failure (every ${sim.permanentFailureEvery})`,
    };
  return { status: STATUS.ROK, deliver: every(sim.deliverEvery), mo: every(sim.moEvery) };
}

/** The four `simulate_*_every` settings, by their KSMPPD column names (accounts file and SQL alike). */
export function simulationSettings(every: (column: string) => number): Simulation {
  return {
    deliverEvery: every('simulate_deliver_every'),
    permanentFailureEvery: every('simulate_permanent_failure_every'),
    temporaryFailureEvery: every('simulate_temporary_failure_every'),
    moEvery: every('simulate_mo_every'),
  };
}
