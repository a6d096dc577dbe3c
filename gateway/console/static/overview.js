// Overview: what the sandbox is doing now (placeholder: the tenant count; charts come with the metrics).
import { api, say } from "./console.js";

const count = document.getElementById("tenant-count");
try {
  const answer = await api("/tenants");
  say(count, `${answer.tenants.length} tenant${answer.tenants.length === 1 ? "" : "s"}: ${answer.tenants.map((t) => t.name).join(", ")}`);
} catch (error) {
  say(count, `Could not read the tenants: ${error.message}`, "error");
}
