/**
 * `submit-session-action` → `SubmitSessionAction`, `servicenow` → `Servicenow`: construct ids and
 * output names derived from declared names, so that a new workflow, task or source needs no
 * hand-written id (and existing ids, hence CloudFormation logical ids, stay as they were).
 */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
