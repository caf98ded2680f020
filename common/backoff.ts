// Retry delays: exponential from `first` up to `max`, randomized so that a
// fleet that lost its server at the same moment does not come back at the
// same moment (AWS Architecture Blog, "Exponential Backoff And Jitter"):
//   full  : uniform in [0, cap]       (many clients, one server: the uplink)
//   equal : uniform in [cap/2, cap]   (one client that must not spin: a watch)

export type Jitter = 'full' | 'equal';

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly firstMs: number,
    private readonly maxMs: number,
    private readonly jitter: Jitter = 'full',
  ) {}

  /** The delay before the next try; each call backs off further. */
  next(): number {
    const cap = Math.min(this.maxMs, this.firstMs * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    return Math.round(this.jitter === 'full' ? Math.random() * cap : cap / 2 + Math.random() * (cap / 2));
  }

  /** It worked: the next failure starts from the first delay again. */
  reset(): void {
    this.attempt = 0;
  }
}
