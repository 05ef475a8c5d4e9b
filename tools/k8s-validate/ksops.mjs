// ksops.mjs: KSOPS's generator (viaduct.ai/v1 ksops) has no published
// model: it must be an exec function named ksops, and list the encrypted
// files it decrypts (*.enc.yaml, never an example). validate.mjs takes the
// table `checks` below.
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

export function checkKsops(obj) {
  const fn = obj.metadata?.annotations?.['config.kubernetes.io/function'];
  if (typeof fn !== 'string' || !/exec:\s*\n\s*path:\s*ksops\b/.test(fn))
    return "metadata.annotations['config.kubernetes.io/function']: exec with path ksops (required)";
  const files = obj.files;
  if (!Array.isArray(files) || files.length < 1 || files.some((f) => typeof f !== 'string'))
    return 'files: a non-empty list of paths (required)';
  const bad = files.filter((f) => !/\.enc\.yaml$/.test(f));
  if (bad.length) return `files: only SOPS-encrypted *.enc.yaml files, not ${bad.join(', ')}`;
  for (const k of Object.keys(obj)) {
    if (!['apiVersion', 'kind', 'metadata', 'files', 'secretFrom'].includes(k)) return `unknown field ${k}`;
  }
  if (obj.secretFrom !== undefined && !Array.isArray(obj.secretFrom)) return 'secretFrom: a list';
  return isObj(obj.metadata) ? null : 'metadata: required';
}

export const checks = {
  'viaduct.ai/v1 ksops': checkKsops,
};
