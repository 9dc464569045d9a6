import { cutAtMarker, script } from '../../src/ssh/command-shell.js';

const NONCE = '6f1c2b9e-1111-4a4a-8c8c-000000000001';

describe('the command shell', () => {
  test('sends each command quoted to dk_run (the login shell, $SHELL -c, in a session of its own where setsid exists), with stdin from /dev/null, then a marker with the exit status on stdout and one on stderr', () => {
    expect(script(`echo 'it''s' && exit 3`, NONCE)).toBe(
      `dk_run 'echo '\\''it'\\'''\\''s'\\'' && exit 3' </dev/null; ` +
        `printf '\\n%s %s\\n' @@deploy-kit-done-${NONCE} "$?"; printf '\\n%s\\n' @@deploy-kit-done-${NONCE} >&2\n`,
    );
  });

  test("cuts a command's output at its marker, keeping the output exactly (with or without a last newline)", () => {
    const out = (text: string) => Buffer.from(text);
    expect(cutAtMarker(out(`hello\n\n@@deploy-kit-done-${NONCE} 0\n`), NONCE, true)).toEqual({ output: out('hello\n'), status: 0 });
    expect(cutAtMarker(out(`no newline\n@@deploy-kit-done-${NONCE} 17\n`), NONCE, true)).toEqual({ output: out('no newline'), status: 17 });
    expect(cutAtMarker(out(`warning\n\n@@deploy-kit-done-${NONCE}\n`), NONCE, false)).toEqual({ output: out('warning\n') });
    expect(cutAtMarker(out(`\n@@deploy-kit-done-${NONCE}\n`), NONCE, false)).toEqual({ output: out('') });
  });

  test('waits for the whole marker line, and ignores markers of other commands', () => {
    const out = (text: string) => Buffer.from(text);
    expect(cutAtMarker(out(`x\n@@deploy-kit-done-${NONCE} 1`), NONCE, true)).toBeUndefined();
    expect(cutAtMarker(out(`x\n@@deploy-kit-done-${NONCE}`), NONCE, false)).toBeUndefined();
    expect(cutAtMarker(out(`x\n@@deploy-kit-done-someone-else 0\n`), NONCE, true)).toBeUndefined();
  });
});
