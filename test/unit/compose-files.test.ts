import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readComposeFiles } from '../../src/deploy/compose-files.js';

// Issue 17, item 2: a compose file is read only where its real path is a regular file inside
// the workspace, so a link in the deployed ref cannot upload a file of the runner.

describe('compose files are regular files inside the workspace, links resolved', () => {
  let root: string;
  let workspace: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'deploy-kit-compose-'));
    workspace = join(root, 'workspace');
    mkdirSync(join(workspace, 'deploy'), { recursive: true });
    writeFileSync(join(workspace, 'docker-compose.yml'), 'services:\n  web:\n    image: shop\n');
    writeFileSync(join(root, 'outside.yml'), 'services:\n  web:\n    image: stolen\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  test("a link to /proc/self/environ (the action's environment) is refused", () => {
    symlinkSync('/proc/self/environ', join(workspace, 'override.yml'));
    expect(() => readComposeFiles('docker-compose.yml\noverride.yml', workspace)).toThrow(
      "Input 'compose-file': 'override.yml' is a link to a file outside the workspace; compose files must be regular files inside it.",
    );
  });

  test('a link out of the workspace is refused, whether the link is the file or a folder on its path', () => {
    symlinkSync(join(root, 'outside.yml'), join(workspace, 'linked.yml'));
    expect(() => readComposeFiles('linked.yml', workspace)).toThrow(/^Input 'compose-file': 'linked\.yml' is a link to a file outside the workspace/);
    symlinkSync(root, join(workspace, 'up'));
    expect(() => readComposeFiles('up/outside.yml', workspace)).toThrow(/^Input 'compose-file': 'up\/outside\.yml' is a link to a file outside the workspace/);
  });

  test('what is not a regular file is refused: a folder, a FIFO', () => {
    expect(() => readComposeFiles('deploy', workspace)).toThrow("Input 'compose-file': 'deploy' is not a regular file.");
    execFileSync('mkfifo', [join(workspace, 'pipe.yml')]);
    expect(() => readComposeFiles('pipe.yml', workspace)).toThrow("Input 'compose-file': 'pipe.yml' is not a regular file.");
  });

  test('a link to a file inside the workspace is read, under the name it was given', () => {
    symlinkSync('../docker-compose.yml', join(workspace, 'deploy', 'prod.yml'));
    const { files } = readComposeFiles('deploy/prod.yml', workspace);
    expect(files).toEqual([{ name: 'prod.yml', content: 'services:\n  web:\n    image: shop\n' }]);
  });

  test('a workspace reached through a link of its own works', () => {
    symlinkSync(workspace, join(root, 'alias'));
    expect(readComposeFiles('docker-compose.yml', join(root, 'alias')).files).toHaveLength(1);
  });
});
