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
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that carries the exit code it must end the run with. */
export class HarnessError extends Error {
  constructor(message: string, readonly exitCode: ExitCode, readonly details: string[] = []) {
    super(message);
    this.name = 'HarnessError';
  }
}

export const invalid = (message: string, details: string[] = []) => new HarnessError(message, ExitCode.Invalid, details);
