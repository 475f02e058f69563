import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WORKFLOWS } from '../definition.ts';
import { aslText, WORKFLOW_SOURCES } from './sources.ts';

/**
 * `npm run workflows`: writes every `state-machines/<name>.asl.json` from its source in this
 * folder, then formats them with the project's biome, so that `npm run lint` accepts them.
 */
const files = WORKFLOWS.map((workflow) => {
  const path = fileURLToPath(workflow.file);
  writeFileSync(path, aslText(WORKFLOW_SOURCES[workflow.name]));
  return path;
});
const biome = fileURLToPath(
  new URL('../../../node_modules/@biomejs/biome/bin/biome', import.meta.url),
);
execFileSync(process.execPath, [biome, 'format', '--write', ...files], { stdio: 'inherit' });
for (const file of files) console.log(`Wrote ${file}`);
