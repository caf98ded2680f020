// common/secret.ts: the one reader of secrets (ticket tokens, webhook keys) from a file or the environment.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { VigilError } from '../../common/errors';
import { readSecret } from '../../common/secret';

describe('readSecret', () => {
  let dir = '';
  const ENV = 'VIGIL_TEST_SECRET_VALUE';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-secret-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    delete process.env[ENV];
  });

  it('a file: one trailing newline (LF or CRLF) dropped, nothing else', () => {
    const f = path.join(dir, 'token');
    fs.writeFileSync(f, 's3cret\n');
    assert.equal(readSecret({ file: f }, 'gh token'), 's3cret');
    fs.writeFileSync(f, ' s3cret \r\n');
    assert.equal(readSecret({ file: f }, 'gh token'), ' s3cret ');
    fs.writeFileSync(f, 's3cret\n\n');
    assert.equal(readSecret({ file: f }, 'gh token'), 's3cret\n');
    fs.writeFileSync(f, 'rotated\n');
    assert.equal(readSecret({ file: f }, 'gh token'), 'rotated', 'read again at each call');
  });

  it('an environment variable; the file wins when both are given', () => {
    process.env[ENV] = 'from-env';
    assert.equal(readSecret({ env: ENV }, 'hook secret'), 'from-env');
    const f = path.join(dir, 'both');
    fs.writeFileSync(f, 'from-file');
    assert.equal(readSecret({ file: f, env: ENV }, 'hook secret'), 'from-file');
  });

  it('refusals name what and where, never a secret, as BAD_ARGUMENT', () => {
    const refused = (where: { file?: string; env?: string }, re: RegExp): void =>
      assert.throws(() => readSecret(where, 'jira token'), (e: unknown) => e instanceof VigilError && e.code === 'BAD_ARGUMENT' && re.test(e.message));
    refused({ file: path.join(dir, 'absent') }, new RegExp(`^jira token: cannot read ${dir}/absent: ENOENT$`));
    refused({ file: dir }, /^jira token: cannot read .*: EISDIR$/);
    delete process.env[ENV];
    refused({ env: ENV }, new RegExp(`^jira token: the environment variable ${ENV} is not set$`));
    process.env[ENV] = '';
    refused({ env: ENV }, /is not set$/);
    refused({}, /^jira token: give a file or an environment variable$/);
  });
});
