// The generic webhook: each alert as its JSON, POSTed on its own, signed
// with HMAC-SHA256 over the exact body (header X-Vigil-Signature-256:
// sha256=<hex>, the scheme GitHub's webhooks use), so that the receiver can
// check it came from Vigil and was not changed.
import { createHmac } from 'node:crypto';
import { HttpPoster } from './http-post';
import type { Output } from './output';

export const SIGNATURE_HEADER = 'x-vigil-signature-256';

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export class WebhookOutput implements Output {
  readonly type = 'webhook' as const;
  private readonly http: HttpPoster;

  constructor(
    readonly name: string,
    url: string,
    private readonly secret: (() => string) | null,
    o: { caFile?: string; timeoutMs?: number },
  ) {
    this.http = new HttpPoster(url, o);
  }

  async deliver(alertsJson: readonly string[]): Promise<void> {
    for (const body of alertsJson) {
      await this.http.post(body, { ...(this.secret ? { [SIGNATURE_HEADER]: signBody(this.secret(), body) } : {}) });
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
