/**
 * How the apps in bin/ end on an error: the message alone on stderr (a plan
 * error lists every problem with its field, value and fix), exit status 1. The
 * stack trace (and the error's other properties, such as a plan error's raw
 * `issues`) only with COUNTERPARTY_DEBUG=1.
 */
export function runCli(main: () => void): void {
  try {
    main();
  } catch (e) {
    process.stderr.write(`${cliErrorText(e, process.env.COUNTERPARTY_DEBUG)}\n`);
    process.exitCode = 1;
  }
}

/** The text printed for an error: its message, or with `debug` set ("1", "true") the whole error with its stack. */
export function cliErrorText(e: unknown, debug: string | undefined): string {
  if (debug === '1' || debug === 'true') return e instanceof Error ? `${e.stack ?? e.message}\n${JSON.stringify({ ...e }, null, 2)}` : String(e);
  const message = e instanceof Error ? e.message : String(e);
  return `${message}\n(set COUNTERPARTY_DEBUG=1 for the stack trace)`;
}
