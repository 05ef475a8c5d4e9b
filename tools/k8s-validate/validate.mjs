// validate.mjs: validates every object of the given YAML files against its
// schema, offline (kubernetes-models, @kubernetes-models/*). Prints one JSON
// line per object: {file, kind, name, ok, error}. Exit status 0 even on
// invalid objects: t/20-manifests.t judges the lines.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { checks as cnpgChecks } from './cnpg.mjs';
import { checks as ksopsChecks } from './ksops.mjs';

// Custom resources with no published model: an explicit structural check.
const explicit = {
  ...cnpgChecks,
  ...ksopsChecks,
};

const modules = {
  'v1': 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'policy/v1': 'kubernetes-models/policy/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'argoproj.io/v1alpha1': '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1',
  'gateway.networking.k8s.io/v1': '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

for (const file of process.argv.slice(2)) {
  let docs;
  try {
    docs = parseAllDocuments(readFileSync(file, 'utf8'));
  } catch (e) {
    console.log(JSON.stringify({ file, ok: false, error: `read: ${e.message}` }));
    continue;
  }
  for (const doc of docs) {
    const base = { file };
    if (doc.errors.length) {
      console.log(JSON.stringify({ ...base, ok: false, error: `YAML: ${doc.errors[0].message}` }));
      continue;
    }
    const obj = doc.toJS();
    if (obj === null) continue;
    base.kind = obj.kind;
    base.name = obj.metadata?.name;
    if (obj.apiVersion?.startsWith('kustomize.config.k8s.io/')) {
      console.log(JSON.stringify({ ...base, ok: true, skipped: 'kustomize (kubectl kustomize checks it)' }));
      continue;
    }
    const check = explicit[`${obj.apiVersion} ${obj.kind}`];
    if (check) {
      const error = check(obj);
      console.log(JSON.stringify(error ? { ...base, ok: false, error } : { ...base, ok: true, explicit: true }));
      continue;
    }
    const mod = modules[obj.apiVersion];
    if (!mod) {
      console.log(JSON.stringify({ ...base, ok: false, error: `no schema for apiVersion ${obj.apiVersion}` }));
      continue;
    }
    const Model = (await import(mod))[obj.kind];
    if (!Model) {
      console.log(JSON.stringify({ ...base, ok: false, error: `no schema for ${obj.apiVersion} ${obj.kind}` }));
      continue;
    }
    try {
      new Model(obj).validate();
      console.log(JSON.stringify({ ...base, ok: true }));
    } catch (e) {
      console.log(JSON.stringify({ ...base, ok: false, error: e.message.slice(0, 2000) }));
    }
  }
}
