/** The CI workflow: valid for GitHub Actions and doing what it promises. */

import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";

const PATH = new URL("../.github/workflows/deploy.yml", import.meta.url);
const source = await Deno.readTextFile(PATH);

Deno.test("deploy workflow passes the GitHub Actions schema", () => {
  deepStrictEqual(validateWorkflow(source).errors, []);
});

Deno.test("workflow validator rejects a broken workflow", () => {
  const broken = "on: push\njobs:\n  test:\n    runs-on: 3\n    stepz: []\n";
  ok(validateWorkflow(broken).errors.length > 0);
});

Deno.test("deploy workflow tests before it deploys main with a secret token", () => {
  const workflow = parse(source);
  const run = (job: string) =>
    workflow.jobs[job].steps.map((s: { run?: string }) => s.run ?? "")
      .join("\n");

  const test = run("test");
  for (const command of [".ci/run", "deno fmt --check", "deno lint"]) {
    ok(test.includes(command), `test job runs ${command}`);
  }
  ok(test.includes("deno task check"));

  const deploy = workflow.jobs.deploy;
  strictEqual(deploy.needs, "test");
  ok(deploy.if.includes("refs/heads/main"));
  ok(run("deploy").includes("deno deploy --prod"));
  const step = deploy.steps.find((s: { run?: string }) =>
    s.run?.includes("deno deploy")
  );
  strictEqual(step.env.DENO_DEPLOY_TOKEN, "${{ secrets.DENO_DEPLOY_TOKEN }}");
});
