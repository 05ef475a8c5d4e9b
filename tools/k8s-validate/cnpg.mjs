// cnpg.mjs: CloudNativePG's Cluster has no published model in
// kubernetes-models, so this checks its structure against the operator's
// API (api/v1 Cluster, operator 1.25 or later): every spec field must be
// one the API has, and the fields this project uses must have the API's
// types, enums and bounds. It is a small explicit check, not the CRD's
// OpenAPI schema: fields we do not use are only checked for their name.
const SPEC_FIELDS = new Set([
  'description', 'inheritedMetadata', 'imageName', 'imageCatalogRef', 'imagePullPolicy',
  'schedulerName', 'postgresUID', 'postgresGID', 'instances', 'minSyncReplicas',
  'maxSyncReplicas', 'postgresql', 'replicationSlots', 'bootstrap', 'replica',
  'superuserSecret', 'enableSuperuserAccess', 'certificates', 'imagePullSecrets', 'storage',
  'serviceAccountTemplate', 'walStorage', 'ephemeralVolumeSource', 'startDelay', 'stopDelay',
  'smartShutdownTimeout', 'switchoverDelay', 'failoverDelay', 'livenessProbeTimeout',
  'affinity', 'topologySpreadConstraints', 'resources', 'ephemeralVolumesSizeLimit',
  'priorityClassName', 'primaryUpdateStrategy', 'primaryUpdateMethod', 'backup',
  'nodeMaintenanceWindow', 'monitoring', 'externalClusters', 'logLevel',
  'projectedVolumeTemplate', 'env', 'envFrom', 'managed', 'seccompProfile', 'tablespaces',
  'enablePDB', 'plugins', 'probes',
]);
const POSTGRESQL_FIELDS = new Set([
  'parameters', 'synchronous', 'pg_hba', 'pg_ident', 'syncReplicaElectionConstraint',
  'shared_preload_libraries', 'ldap', 'promotionTimeout', 'enableAlterSystem', 'extensions',
]);
const SYNCHRONOUS_FIELDS = new Set([
  'method', 'number', 'maxStandbyNamesFromCluster', 'standbyNamesPre', 'standbyNamesPost',
  'dataDurability', 'failoverQuorum',
]);
const INITDB_FIELDS = new Set([
  'database', 'owner', 'secret', 'options', 'dataChecksums', 'encoding', 'localeCollate',
  'localeCType', 'locale', 'localeProvider', 'icuLocale', 'icuRules', 'builtinLocale',
  'walSegmentSize', 'postInitSQL', 'postInitApplicationSQL', 'postInitTemplateSQL', 'import',
  'postInitApplicationSQLRefs', 'postInitTemplateSQLRefs', 'postInitSQLRefs',
]);
const STORAGE_FIELDS = new Set(['storageClass', 'size', 'resizeInUseVolumes', 'pvcTemplate']);
const AFFINITY_FIELDS = new Set([
  'enablePodAntiAffinity', 'topologyKey', 'nodeSelector', 'nodeAffinity', 'tolerations',
  'podAntiAffinityType', 'additionalPodAntiAffinity', 'additionalPodAffinity',
]);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?$/;

const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const isInt = (v) => Number.isInteger(v);

function unknown(where, obj, allowed) {
  const bad = Object.keys(obj).filter((k) => !allowed.has(k));
  return bad.length ? `${where}: unknown field(s) ${bad.join(', ')}` : null;
}

// Returns null when the Cluster is valid, else the first problem found.
export function checkCluster(obj) {
  const name = obj.metadata?.name;
  if (typeof name !== 'string' || !DNS_LABEL.test(name) || name.length > 50)
    return 'metadata.name: a DNS label of at most 50 characters is required';
  const s = obj.spec;
  if (!isObj(s)) return 'spec: required';
  const problem = unknown('spec', s, SPEC_FIELDS);
  if (problem) return problem;
  if (!isInt(s.instances) || s.instances < 1) return 'spec.instances: an integer >= 1 is required';
  if (s.imageName !== undefined && typeof s.imageName !== 'string') return 'spec.imageName: a string';
  for (const k of ['minSyncReplicas', 'maxSyncReplicas'])
    if (s[k] !== undefined && (!isInt(s[k]) || s[k] < 0)) return `spec.${k}: an integer >= 0`;
  for (const [k, values] of [['primaryUpdateStrategy', ['unsupervised', 'supervised']],
    ['primaryUpdateMethod', ['switchover', 'restart']]])
    if (s[k] !== undefined && !values.includes(s[k])) return `spec.${k}: one of ${values.join(', ')}`;
  if (s.postgresql !== undefined) {
    const pg = s.postgresql;
    if (!isObj(pg)) return 'spec.postgresql: an object';
    const p = unknown('spec.postgresql', pg, POSTGRESQL_FIELDS);
    if (p) return p;
    if (pg.parameters !== undefined && (!isObj(pg.parameters) ||
        Object.values(pg.parameters).some((v) => typeof v !== 'string')))
      return 'spec.postgresql.parameters: a map of strings (quote numbers)';
    const sy = pg.synchronous;
    if (sy !== undefined) {
      if (!isObj(sy)) return 'spec.postgresql.synchronous: an object';
      const q = unknown('spec.postgresql.synchronous', sy, SYNCHRONOUS_FIELDS);
      if (q) return q;
      if (!['any', 'first'].includes(sy.method)) return 'spec.postgresql.synchronous.method: any or first (required)';
      if (!isInt(sy.number) || sy.number < 1) return 'spec.postgresql.synchronous.number: an integer > 0 (required)';
      if (sy.number >= s.instances) return 'spec.postgresql.synchronous.number: must be below spec.instances';
      if (sy.dataDurability !== undefined && !['required', 'preferred'].includes(sy.dataDurability))
        return 'spec.postgresql.synchronous.dataDurability: required or preferred';
    }
  }
  const initdb = s.bootstrap?.initdb;
  if (initdb !== undefined) {
    if (!isObj(initdb)) return 'spec.bootstrap.initdb: an object';
    const q = unknown('spec.bootstrap.initdb', initdb, INITDB_FIELDS);
    if (q) return q;
    for (const k of ['database', 'owner'])
      if (initdb[k] !== undefined && typeof initdb[k] !== 'string') return `spec.bootstrap.initdb.${k}: a string`;
  }
  if (s.storage !== undefined) {
    if (!isObj(s.storage)) return 'spec.storage: an object';
    const q = unknown('spec.storage', s.storage, STORAGE_FIELDS);
    if (q) return q;
    if (s.storage.size !== undefined && !QUANTITY.test(String(s.storage.size))) return 'spec.storage.size: a quantity such as 1Gi';
  }
  if (s.affinity !== undefined) {
    if (!isObj(s.affinity)) return 'spec.affinity: an object';
    const q = unknown('spec.affinity', s.affinity, AFFINITY_FIELDS);
    if (q) return q;
    if (s.affinity.podAntiAffinityType !== undefined && !['preferred', 'required'].includes(s.affinity.podAntiAffinityType))
      return 'spec.affinity.podAntiAffinityType: preferred or required';
  }
  return null;
}
