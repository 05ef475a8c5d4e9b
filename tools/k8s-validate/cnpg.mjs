// cnpg.mjs: CloudNativePG's resources (Cluster, ImageCatalog,
// ScheduledBackup) and the barman-cloud plugin's ObjectStore have no
// published model in kubernetes-models, so this checks their structure
// against the APIs (api/v1 of operator 1.25 or later; barmancloud.cnpg.io/v1):
// every spec field must be one the API has, and the fields this project
// uses must have the API's types, enums and bounds. It is a small explicit
// check, not the CRDs' OpenAPI schemas: fields we do not use are only
// checked for their name. validate.mjs takes the table `checks` below.
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
const IMPORT_FIELDS = new Set([
  'source', 'type', 'databases', 'roles', 'postImportApplicationSQL', 'schemaOnly',
  'pgDumpExtraOptions', 'pgRestoreExtraOptions',
]);
const EXTERNAL_FIELDS = new Set([
  'name', 'connectionParameters', 'sslCert', 'sslKey', 'sslRootCert', 'password',
  'barmanObjectStore', 'plugin',
]);
const ROLE_FIELDS = new Set([
  'name', 'comment', 'ensure', 'passwordSecret', 'connectionLimit', 'validUntil', 'inRoles',
  'inherit', 'disablePassword', 'superuser', 'createdb', 'createrole', 'login',
  'replication', 'bypassrls',
]);
const PLUGIN_FIELDS = new Set(['name', 'enabled', 'isWALArchiver', 'parameters']);
// A reference pinned by digest, not a tag that can move.
const PINNED = /^[^@\s]+@sha256:[0-9a-f]{64}$/;
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

// The object at where, with only the API's fields: null, or the problem.
function shape(where, v, allowed) {
  return isObj(v) ? unknown(where, v, allowed) : `${where}: an object`;
}

const strMap = (v) => isObj(v) && Object.values(v).every((x) => typeof x === 'string');

// A list of named objects at where, each also judged by more(item, its
// place); null, or the first problem.
function namedList(where, list, allowed, more) {
  if (list === undefined) return null;
  if (!Array.isArray(list)) return `${where}: a list`;
  for (const [i, v] of list.entries()) {
    const at = `${where}[${i}]`;
    const q = shape(at, v, allowed) ?? (typeof v.name === 'string' ? more(v, at) : `${at}.name: required`);
    if (q) return q;
  }
  return null;
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
  if (s.imageName !== undefined && s.imageCatalogRef !== undefined)
    return 'spec.imageName and spec.imageCatalogRef: one or the other';
  const cat = s.imageCatalogRef;
  if (cat !== undefined && (!isObj(cat) || cat.apiGroup !== 'postgresql.cnpg.io' ||
      !['ImageCatalog', 'ClusterImageCatalog'].includes(cat.kind) || typeof cat.name !== 'string' ||
      !isInt(cat.major)))
    return 'spec.imageCatalogRef: {apiGroup: postgresql.cnpg.io, kind: ImageCatalog|ClusterImageCatalog, name, major (an integer)}';
  for (const k of ['minSyncReplicas', 'maxSyncReplicas'])
    if (s[k] !== undefined && (!isInt(s[k]) || s[k] < 0)) return `spec.${k}: an integer >= 0`;
  for (const [k, values] of [['primaryUpdateStrategy', ['unsupervised', 'supervised']],
    ['primaryUpdateMethod', ['switchover', 'restart']]])
    if (s[k] !== undefined && !values.includes(s[k])) return `spec.${k}: one of ${values.join(', ')}`;
  if (s.postgresql !== undefined) {
    const pg = s.postgresql;
    const p = shape('spec.postgresql', pg, POSTGRESQL_FIELDS);
    if (p) return p;
    if (pg.parameters !== undefined && !strMap(pg.parameters))
      return 'spec.postgresql.parameters: a map of strings (quote numbers)';
    const sy = pg.synchronous;
    if (sy !== undefined) {
      const q = shape('spec.postgresql.synchronous', sy, SYNCHRONOUS_FIELDS);
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
    const q = shape('spec.bootstrap.initdb', initdb, INITDB_FIELDS);
    if (q) return q;
    for (const k of ['database', 'owner'])
      if (initdb[k] !== undefined && typeof initdb[k] !== 'string') return `spec.bootstrap.initdb.${k}: a string`;
    const im = initdb.import;
    if (im !== undefined) {
      const r = shape('spec.bootstrap.initdb.import', im, IMPORT_FIELDS);
      if (r) return r;
      if (!['microservice', 'monolith'].includes(im.type)) return 'spec.bootstrap.initdb.import.type: microservice or monolith (required)';
      if (!Array.isArray(im.databases) || im.databases.length < 1 || im.databases.some((d) => typeof d !== 'string'))
        return 'spec.bootstrap.initdb.import.databases: a list of names (required)';
      if (im.type === 'microservice' && im.databases.length !== 1) return 'spec.bootstrap.initdb.import.databases: exactly one for microservice';
      if (im.type === 'microservice' && im.roles !== undefined) return 'spec.bootstrap.initdb.import.roles: monolith only';
      if (im.type === 'monolith' && im.postImportApplicationSQL !== undefined) return 'spec.bootstrap.initdb.import.postImportApplicationSQL: microservice only';
      if (im.postImportApplicationSQL !== undefined && (!Array.isArray(im.postImportApplicationSQL) ||
          im.postImportApplicationSQL.some((q) => typeof q !== 'string')))
        return 'spec.bootstrap.initdb.import.postImportApplicationSQL: a list of strings';
      const src = im.source?.externalCluster;
      if (typeof src !== 'string') return 'spec.bootstrap.initdb.import.source.externalCluster: required';
      if (!(s.externalClusters || []).some((e) => e?.name === src))
        return `spec.bootstrap.initdb.import.source.externalCluster: no externalClusters entry named ${src}`;
    }
  }
  const lists = namedList('spec.externalClusters', s.externalClusters, EXTERNAL_FIELDS, (e, at) =>
    (e.connectionParameters !== undefined && !strMap(e.connectionParameters)
      ? `${at}.connectionParameters: a map of strings (quote numbers)`
      : e.password !== undefined && (typeof e.password?.name !== 'string' || typeof e.password?.key !== 'string')
        ? `${at}.password: {name, key} of a Secret` : null))
    ?? namedList('spec.managed.roles', s.managed?.roles, ROLE_FIELDS, (r, at) => {
      if (r.ensure !== undefined && !['present', 'absent'].includes(r.ensure)) return `${at}.ensure: present or absent`;
      const k = ['login', 'superuser', 'createdb', 'createrole', 'inherit', 'replication', 'bypassrls', 'disablePassword']
        .find((f) => r[f] !== undefined && typeof r[f] !== 'boolean');
      if (k) return `${at}.${k}: a boolean`;
      return r.passwordSecret !== undefined && typeof r.passwordSecret?.name !== 'string'
        ? `${at}.passwordSecret: {name} of a basic-auth Secret` : null;
    })
    ?? namedList('spec.plugins', s.plugins, PLUGIN_FIELDS, (p, at) =>
      (p.parameters !== undefined && !strMap(p.parameters) ? `${at}.parameters: a map of strings` : null));
  if (lists) return lists;
  for (const k of ['storage', 'walStorage']) {
    if (s[k] === undefined) continue;
    const q = shape(`spec.${k}`, s[k], STORAGE_FIELDS);
    if (q) return q;
    if (s[k].size !== undefined && !QUANTITY.test(String(s[k].size))) return `spec.${k}.size: a quantity such as 1Gi`;
  }
  if (s.affinity !== undefined) {
    const q = shape('spec.affinity', s.affinity, AFFINITY_FIELDS);
    if (q) return q;
    if (s.affinity.podAntiAffinityType !== undefined && !['preferred', 'required'].includes(s.affinity.podAntiAffinityType))
      return 'spec.affinity.podAntiAffinityType: preferred or required';
  }
  return null;
}

const SCHEDULED_FIELDS = new Set([
  'suspend', 'immediate', 'schedule', 'cluster', 'backupOwnerReference', 'target', 'method',
  'pluginConfiguration', 'online', 'onlineConfiguration',
]);

// ImageCatalog / ClusterImageCatalog: one image per major, each pinned.
export function checkImageCatalog(obj) {
  const images = obj.spec?.images;
  if (!Array.isArray(images) || images.length < 1) return 'spec.images: a non-empty list (required)';
  const majors = new Set();
  for (const [i, im] of images.entries()) {
    if (!isObj(im) || !isInt(im.major) || typeof im.image !== 'string') return `spec.images[${i}]: {major (an integer), image}`;
    if (majors.has(im.major)) return `spec.images[${i}].major: ${im.major} twice`;
    majors.add(im.major);
    if (!PINNED.test(im.image)) return `spec.images[${i}].image: pin it by digest (@sha256:...), a tag can move`;
  }
  return null;
}

// ScheduledBackup: a six-field cron schedule (seconds first), a cluster.
export function checkScheduledBackup(obj) {
  const s = obj.spec;
  if (!isObj(s)) return 'spec: required';
  const q = unknown('spec', s, SCHEDULED_FIELDS);
  if (q) return q;
  if (typeof s.schedule !== 'string' || s.schedule.trim().split(/\s+/).length !== 6)
    return 'spec.schedule: six cron fields, seconds first (required)';
  if (typeof s.cluster?.name !== 'string') return 'spec.cluster.name: required';
  if (s.method !== undefined && !['barmanObjectStore', 'volumeSnapshot', 'plugin'].includes(s.method))
    return 'spec.method: barmanObjectStore, volumeSnapshot or plugin';
  if (s.method === 'plugin' && typeof s.pluginConfiguration?.name !== 'string')
    return 'spec.pluginConfiguration.name: required with method plugin';
  if (s.backupOwnerReference !== undefined && !['none', 'self', 'cluster'].includes(s.backupOwnerReference))
    return 'spec.backupOwnerReference: none, self or cluster';
  return null;
}

// The barman-cloud plugin's ObjectStore: where, and how it authenticates.
export function checkObjectStore(obj) {
  const c = obj.spec?.configuration;
  if (!isObj(c)) return 'spec.configuration: required';
  if (typeof c.destinationPath !== 'string' || !/^(s3|gs|https?):\/\//.test(c.destinationPath))
    return 'spec.configuration.destinationPath: s3://, gs:// or an https:// Azure Blob URL (required)';
  const creds = ['s3Credentials', 'azureCredentials', 'googleCredentials'].filter((k) => c[k] !== undefined);
  if (creds.length > 1) return `spec.configuration: one of ${creds.join(', ')}`;
  const az = c.azureCredentials;
  if (az !== undefined) {
    const ways = ['connectionString', 'storageAccount', 'inheritFromAzureAD', 'useDefaultAzureCredentials'].filter((k) => az[k] !== undefined);
    if (ways.length < 1) return 'spec.configuration.azureCredentials: no way to authenticate';
    for (const k of ['inheritFromAzureAD', 'useDefaultAzureCredentials'])
      if (az[k] !== undefined && typeof az[k] !== 'boolean') return `spec.configuration.azureCredentials.${k}: a boolean`;
  }
  if (obj.spec.retentionPolicy !== undefined && !/^[1-9][0-9]*[dwm]$/.test(obj.spec.retentionPolicy))
    return 'spec.retentionPolicy: such as 30d, 4w or 6m';
  return null;
}

// The kinds validate.mjs checks here, by "apiVersion kind".
export const checks = {
  'postgresql.cnpg.io/v1 Cluster': checkCluster,
  'postgresql.cnpg.io/v1 ImageCatalog': checkImageCatalog,
  'postgresql.cnpg.io/v1 ClusterImageCatalog': checkImageCatalog,
  'postgresql.cnpg.io/v1 ScheduledBackup': checkScheduledBackup,
  'barmancloud.cnpg.io/v1 ObjectStore': checkObjectStore,
};
