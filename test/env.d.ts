// Types `env` from `cloudflare:test` as the Worker's own bindings. `wrangler types` already declares
// what wrangler.toml binds (src/worker-configuration.d.ts); this adds the rest (secrets, test values).
import type { Env as SignetEnv } from '../src/env.ts';

declare global {
  namespace Cloudflare {
    interface Env extends Omit<SignetEnv, keyof WranglerEnv> {}
  }
}
