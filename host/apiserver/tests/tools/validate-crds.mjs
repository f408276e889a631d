// Validates Kubernetes objects against the schemas generated from the real Flux, cert-manager and Argo CD CRDs
// (the @kubernetes-models npm packages).
//
// Usage: node validate-crds.mjs <node_modules dir> <objects.json>
// objects.json holds an array of objects. Prints one line per object ("ok <kind> <name>" or
// "invalid <kind> <name>: <errors>") and exits 1 if any object is invalid or of a group no package covers.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, file] = process.argv.slice(2);
if (!modules || !file) {
  console.error("usage: node validate-crds.mjs <node_modules dir> <objects.json>");
  process.exit(2);
}

function packageOf(group) {
  if (group.endsWith(".toolkit.fluxcd.io")) return "flux-cd";
  if (group === "cert-manager.io" || group.endsWith(".cert-manager.io")) return "cert-manager";
  if (group === "argoproj.io") return "argo-cd";
  return null;
}

const objects = JSON.parse(readFileSync(file, "utf8"));
let failed = false;
for (const obj of objects) {
  const [group, version] = String(obj.apiVersion || "").split("/");
  const label = `${obj.kind} ${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
  const pkg = packageOf(group);
  if (!pkg || !version) {
    console.log(`invalid ${label}: no validator for ${obj.apiVersion}`);
    failed = true;
    continue;
  }
  const entry = join(modules, "@kubernetes-models", pkg, group, version, "index.js");
  let models;
  try {
    models = await import(pathToFileURL(entry).href);
  } catch (e) {
    console.log(`invalid ${label}: cannot load ${entry}: ${e.message}`);
    failed = true;
    continue;
  }
  const Model = models[obj.kind];
  if (typeof Model !== "function") {
    console.log(`invalid ${label}: ${pkg} has no ${obj.kind} in ${obj.apiVersion}`);
    failed = true;
    continue;
  }
  try {
    new Model(obj).validate();
    console.log(`ok ${label}`);
  } catch (e) {
    console.log(`invalid ${label}: ${e.message}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
