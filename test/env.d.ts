// Types `env` from `cloudflare:test` as the Worker's own bindings.
import type { Env as SignetEnv } from '../src/env.ts';

declare global {
  namespace Cloudflare {
    interface Env extends SignetEnv {}
  }
}
