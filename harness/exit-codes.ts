// Exit codes: an enum so CI can tell "SLO breached" from "tool broke" from "manual action needed".
export const ExitCode = {
  /** every SLO met */
  Ok: 0,
  /** an SLO breached */
  SloBreached: 1,
  /** invalid input or a precheck failed: nothing was injected */
  Invalid: 2,
  /** aborted (stop condition or signal); everything was reverted */
  Aborted: 3,
  /** harness or infrastructure error; everything was reverted */
  Error: 4,
  /** a revert could not complete: manual action needed (the message says what is left) */
  RevertIncomplete: 5,
  /** the fault did not take effect (its verify saw no effect): everything was reverted, nothing was tested */
  NotTaken: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that carries the exit code it must end the run with. */
export class HarnessError extends Error {
  constructor(message: string, readonly exitCode: ExitCode, readonly details: string[] = []) {
    super(message);
    this.name = 'HarnessError';
  }
}

/**
 * The worst of several runs' exit codes (a gate's): a revert left behind first, then a broken tool,
 * a fault that did not take, an abort, invalid input, a breached SLO.
 */
export const EXIT_SEVERITY: readonly ExitCode[] = [ExitCode.RevertIncomplete, ExitCode.Error, ExitCode.NotTaken, ExitCode.Aborted, ExitCode.Invalid, ExitCode.SloBreached, ExitCode.Ok];
export function worstExitCode(codes: number[]): number {
  let worst: number = ExitCode.Ok;
  const rank = (c: number) => { const i = EXIT_SEVERITY.indexOf(c as ExitCode); return i < 0 ? 1 : i; };
  for (const c of codes) if (rank(c) < rank(worst)) worst = c;
  return worst;
}

/** A fault that did not take effect: what was expected and what was seen. */
export class FaultNotTaken extends HarnessError {
  constructor(message: string, details: string[] = []) {
    super(message, ExitCode.NotTaken, details);
    this.name = 'FaultNotTaken';
  }
}

export const invalid = (message: string, details: string[] = []) => new HarnessError(message, ExitCode.Invalid, details);
