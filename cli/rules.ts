// `vigil rules check PATH...`: validate rules without running them, and say
// how each rule would be enforced on this kernel.
import { Option, type Command } from 'commander';
import { vigilCommand, type CliIo } from './args';

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
  return vigilCommand('rules', 'work with rules files').addCommand(check);
}
