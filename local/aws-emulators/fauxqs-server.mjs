// Runs fauxqs (SNS/SQS emulator) for local/fauxqs.sh on 127.0.0.1 only:
// fauxqs's own CLI always listens on 0.0.0.0. Queue URLs read
// http://sqs.<region>.localhost:PORT/000000000000/<queue>; clients that send
// every call to their configured endpoint (Dapr's aws-sdk-go v1 does) need
// no DNS for that name.
// Copied next to node_modules/ by local/aws-emulators/install.sh.
//
//   node fauxqs-server.mjs 14566
import { buildApp } from "fauxqs";

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
	console.error(`usage: node fauxqs-server.mjs PORT (got ${JSON.stringify(process.argv[2])})`);
	process.exit(2);
}

// Warnings and errors only: a line per request would flood the log.
const app = buildApp({ logger: { level: "warn" } });
await app.listen({ port, host: "127.0.0.1" });
console.log(`fauxqs listening at http://127.0.0.1:${port}`);

// Close the listener on SIGTERM/SIGINT so the process exits cleanly.
for (const signal of ["SIGTERM", "SIGINT"]) {
	process.once(signal, () => {
		app.close().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	});
}
