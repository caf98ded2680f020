// `vigil rules check PATH...`: validate rules without running them, and say
// how each rule would be enforced on this kernel. `vigil rules test PATH...
// --events FILE...`: replay recorded events and fixtures through the rules,
// print what would fire, exit 1 when an expectation fails.
import { Option, type Command } from 'commander';
import { VigilError } from '../common/errors';
import { outputFormat, vigilCommand, type CliIo } from './args';
import { Exit } from './exit-codes';

export function rulesCommand(io?: CliIo): Command {
  const check = vigilCommand('check', 'validate rules without running them; print how each rule is enforced here')
    .argument('<path...>', 'rules files or directories')
    .addOption(new Option('--identities <file>', 'identities file, for the workloads rules name'));
  if (io) {
    check.action(async (paths: string[], v: { identities?: string }) => {
      const { checkRules } = await import('../agent/rules/check');
      io.out.write(checkRules(paths, v.identities).text);
      io.exit(0);
    });
  }
  const test = vigilCommand('test', 'replay recorded events (vigil trace --output json) and fixtures through rules; exit 1 when an expectation fails')
    .argument('<path...>', 'rules files or directories')
    .addOption(new Option('--events <file...>', 'vigil trace --output json files, or fixtures with expectations (docs/rules.md)'))
    .addOption(new Option('--identities <file>', 'identities file: cgroups and addresses -> SPIFFE IDs'))
    .addOption(new Option('-o, --output <format>', 'text, or json (one line per rule that would fire)').argParser(outputFormat()).default('text'));
  if (io) {
    test.action(async (paths: string[], v: { events?: string[]; identities?: string; output: 'json' | 'text' }) => {
      if (!v.events?.length) throw new VigilError('BAD_ARGUMENT', 'vigil rules test: --events FILE... is required (see vigil rules test --help)');
      const { replay, replayText } = await import('../agent/rules/replay');
      const rep = replay({ rules: paths, events: v.events, identities: v.identities });
      if (v.output === 'json') {
        for (const h of rep.hits) io.out.write(JSON.stringify(h) + '\n');
        for (const f of rep.failures) io.err.write(`vigil rules test: FAILED ${f}\n`);
        io.err.write(`vigil rules test: ${rep.events} events, ${rep.hits.filter((h) => !h.exempted_by).length} alerts; ${rep.expectations} expectations, ${rep.failures.length} failed\n`);
      } else {
        io.out.write(replayText(rep));
      }
      io.exit(rep.failures.length ? Exit.FAILED : Exit.OK);
    });
  }
  return vigilCommand('rules', 'work with rules files').addCommand(check).addCommand(test);
}
