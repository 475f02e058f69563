/**
 * What the CLI and the tools read runbooks with: the folder, its files and their problems. Not
 * for Lambda code, which reads the runbooks synth checked (lib/runbooks/library.ts) and so never
 * carries the YAML parser.
 */
export {
  type Condition,
  RUNBOOK_ACTION,
  RUNBOOK_LIMITS,
  type Runbook,
  type RunbookInput,
  type RunbookStep,
  type RunbookStepRecord,
  STEP_STATUSES,
  type StepStatus,
} from './definition.ts';
export {
  listRunbooks,
  listRunbooksSync,
  loadRunbookLibrary,
  RUNBOOKS_DIR,
  RunbookFileError,
  readRunbookFile,
  readRunbookFileSync,
  runbooksDirFrom,
} from './files.ts';
export { isDestructiveRunbook } from './validate.ts';
