#!/usr/bin/env bash
# hub.wasm builds freestanding, exports exactly the glue ABI worker.mjs uses, imports only the
# four host calls, and stays small (the Go/TinyGo original was 408 KB; budget 40 KiB).
set -euo pipefail
. "$(dirname "$0")/setup.sh"
size=$(stat -c %s "$RG_HUB_WASM")
echo "hub.wasm: $size bytes"
node -e '
const fs = require("fs");
const m = new WebAssembly.Module(fs.readFileSync(process.argv[1]));
const ex = WebAssembly.Module.exports(m).map((e) => e.name).sort().join(" ");
const im = WebAssembly.Module.imports(m).map((i) => i.module + "." + i.name).sort().join(" ");
const wantEx = "hubw_binary hubw_buf hubw_buf_size hubw_close hubw_heap hubw_open hubw_relay_config hubw_relay_set_usage hubw_relay_stat hubw_relay_usage hubw_restore hubw_seed hubw_seeded hubw_stat hubw_text hubw_trust_buf hubw_trust_buf_size hubw_trust_clear hubw_trust_config hubw_trust_is_revoked hubw_trust_probe hubw_trust_revoke hubw_trust_revoked hubw_trust_sig hubw_trust_sig_ok hubw_trust_table hubw_trust_table_count hubw_trust_table_entry_size hubw_trust_table_set_count hubw_trust_tables_dirty memory";
const wantIm = "env.close env.joined env.revocations env.send env.send_binary";
console.log("exports:", ex, "\nimports:", im);
if (ex !== wantEx || im !== wantIm) { console.error("unexpected ABI"); process.exit(1); }
' "$RG_HUB_WASM"
[ "$size" -lt 40960 ] || { echo "hub.wasm over the 40 KiB budget"; exit 1; }
