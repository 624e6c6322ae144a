import { describe, expect, it } from 'vitest';
import { findSecrets } from '../reporters/secret-scan.ts';

describe('the secret scan', () => {
  it('finds tokens, API key secrets and private keys, and passes ordinary log lines', () => {
    const jwt =
      'eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJzdWIiOiIxMjM0NTY3ODkwIiwiYWN0IjoidXNlciJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';
    expect(findSecrets(`{"msg":"x","token":"${jwt}"}`)).toContain('a JWS/JWT');
    expect(findSecrets(`key sgk_${'A'.repeat(43)}`)).toContain('an API key secret');
    expect(findSecrets('{"kty":"OKP","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}')).toContain(
      'private key material (JWK "d")',
    );
    expect(findSecrets('{"level":"info","msg":"request","requestId":"5f0c","route":"/v1/me","status":200}')).toEqual(
      [],
    );
  });
});
