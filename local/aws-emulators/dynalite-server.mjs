// Runs dynalite (DynamoDB emulator) for local/dynalite.sh, with the flags of
// its own CLI (--host, --port, --path, --createTableMs, --deleteTableMs,
// --updateTableMs), and survives a client that hangs up mid-request.
// dynalite throws from the request's 'error' event, so one sidecar killed
// while its call was in flight (the e2e crash test does that) would take
// the whole stand-in down; DynamoDB itself shrugs that off, and so must we.
// Copied next to node_modules/ by local/aws-emulators/install.sh.
//
//   node dynalite-server.mjs --host 127.0.0.1 --port 18000 --path DIR
import { parseArgs } from "node:util";
import dynalite from "dynalite";

const { values } = parseArgs({
	options: {
		host: { type: "string", default: "127.0.0.1" },
		port: { type: "string" },
		path: { type: "string" },
		createTableMs: { type: "string", default: "500" },
		deleteTableMs: { type: "string", default: "500" },
		updateTableMs: { type: "string", default: "500" },
	},
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535 || !values.path) {
	console.error("usage: node dynalite-server.mjs --port PORT --path DIR [--host H] [--createTableMs MS] …");
	process.exit(2);
}

// A request aborted by its client: nothing to answer, nothing to keep.
process.on("uncaughtException", (err) => {
	if (err && (err.code === "ECONNRESET" || err.message === "aborted")) {
		console.error(`dynalite: a client hung up mid-request (${err.message}); carrying on`);
		return;
	}
	console.error(err);
	process.exit(1);
});

const server = dynalite({
	path: values.path,
	createTableMs: Number(values.createTableMs),
	deleteTableMs: Number(values.deleteTableMs),
	updateTableMs: Number(values.updateTableMs),
}).listen(port, values.host, () => {
	console.log(`Dynalite listening at: http://${values.host}:${server.address().port}`);
});

for (const signal of ["SIGTERM", "SIGINT"]) {
	process.once(signal, () => server.close(() => process.exit(0)));
}
