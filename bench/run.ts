// `npm run bench`, or `npm run bench -- cold-import [--sdk-bundled]` for the cold imports alone, or
// `npm run bench -- session-scale` for the 1,000-session log off alone. Logs are silenced before
// any module creates the logger, which reads its level once.
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
const only = ['cold-import', 'session-scale'].find((name) => process.argv.includes(name));
if (only === undefined || only === 'cold-import') {
  const { coldImportSuite } = await import('./cold-import.ts');
  // `-- cold-import --sdk-bundled` times the rejected alternative: the AWS SDK inside each bundle.
  await coldImportSuite(7, process.argv.includes('--sdk-bundled') ? 'bundled' : 'runtime');
}
if (only === undefined) await import('./suites.ts');
if (only === undefined || only === 'session-scale') {
  const { sessionScaleSuite } = await import('./session-scale.ts');
  await sessionScaleSuite();
}
