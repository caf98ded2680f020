// `vigil tickets`: the tickets the control plane opened (sink, fingerprint,
// key, URL, state) and how many operations wait in the sink spool.
import type { Command } from 'commander';
import type { ListTicketsResponse__Output } from '../common/proto/generated/vigil/v1/ListTicketsResponse';
import { adminLink, linkOptions, unary, type LinkValues } from './admin';
import { vigilCommand, type CliIo } from './args';
import { vdpClient } from './vdp-link';

export function ticketsCommand(io?: CliIo): Command {
  const cmd = linkOptions(vigilCommand('tickets', 'tickets opened in GitHub and Jira, one JSON line each, and the sink spool depth'));
  if (io) {
    cmd.action(async (v: LinkValues) => {
      const l = adminLink(v, 'vigil tickets');
      const c = vdpClient(l);
      try {
        const r = await unary<ListTicketsResponse__Output>(l.address, (o, cb) => c.ListTickets({}, o, cb));
        for (const t of r.tickets) io.out.write(t + '\n');
        io.err.write(`${r.tickets.length} tickets; ${r.spooled} operations waiting in the sink spool\n`);
        io.exit(0);
      } finally {
        c.close();
      }
    });
  }
  return cmd;
}
