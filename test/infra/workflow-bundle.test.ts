/**
 * The worker's workflow bundle is written where no other local user can reach it: a new private
 * directory (mkdtemp, 0700), the file created exclusively. A symlink planted at the name the
 * worker once used (`$TMPDIR/escalator-workflows-<pid>.js`) is never followed.
 */
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowsInChildProcess } from '../../src/infra/workflow-bundle';

test('goes into a new 0700 directory of its own, leaves a file planted at the old predictable name alone, and is removed after use', async () => {
  const victimDir = mkdtempSync(path.join(os.tmpdir(), 'escalator-victim-'));
  const victim = path.join(victimDir, 'precious.conf');
  writeFileSync(victim, 'keep me\n');
  const planted = path.join(os.tmpdir(), `escalator-workflows-${process.pid}.js`);
  rmSync(planted, { force: true });
  symlinkSync(victim, planted);
  try {
    const bundle = await bundleWorkflowsInChildProcess();

    const dir = path.dirname(bundle.path);
    expect(path.dirname(dir)).toBe(os.tmpdir());
    expect(path.basename(dir)).toMatch(/^escalator-workflows-[A-Za-z0-9]{6}$/);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(lstatSync(bundle.path).isFile()).toBe(true);
    expect(statSync(bundle.path).mode & 0o077).toBe(0);
    expect(readFileSync(bundle.path, 'utf8').length).toBeGreaterThan(10_000);
    expect(readFileSync(victim, 'utf8')).toBe('keep me\n');

    await bundle.remove();
    expect(existsSync(dir)).toBe(false);
  } finally {
    rmSync(planted, { force: true });
    rmSync(victimDir, { recursive: true, force: true });
  }
}, 300_000);
