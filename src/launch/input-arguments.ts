import type { LaunchPlan } from '../commands/validate-plan.js'

/** The input argument that carries the launch id to servers without job references. */
export const LAUNCH_ID_ARGUMENT = 'in_MailrunLaunchId'

/** Orchestrator refuses InputArguments longer than this (StartProcessDto.InputArguments maxLength). */
export const MAX_INPUT_ARGUMENTS = 10_000

/**
 * The robot's InputArguments: arguments under their own names, typed; the functions, in order, as
 * one JSON string under the robot's functions argument (default in_Functions). A plan without
 * functions sends no functions argument, so processes that declare none are not refused.
 */
export function inputArguments (plan: LaunchPlan, functionsArgument: string): Record<string, unknown> {
  const args: Record<string, unknown> = { ...plan.arguments }
  if (plan.functions.length > 0) args[functionsArgument] = functionsJson(plan)
  return args
}

/** The functions in the documented shape, [{"name", "args"}] in order (jsonb storage reorders keys). */
export function functionsJson (plan: LaunchPlan): string {
  return JSON.stringify(plan.functions.map((f) => ({ name: f.name, args: f.args })))
}

export class PlanTooLarge extends Error {
  constructor (readonly length: number) {
    super(`the command is too large for Orchestrator: its input arguments take ${length} characters and the limit is ${MAX_INPUT_ARGUMENTS}; send fewer functions or shorter values`)
    this.name = 'PlanTooLarge'
  }
}

export function serializeInputArguments (args: Record<string, unknown>): string {
  const text = JSON.stringify(args)
  if (text.length > MAX_INPUT_ARGUMENTS) throw new PlanTooLarge(text.length)
  return text
}
