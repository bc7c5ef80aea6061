// What a Russian page must not show: the console's own words left in English.

/** Runs of three or more Latin words in what the page shows (code, pre and identifiers aside). */
export function englishRuns (html: string, data: string[] = []): string[] {
  const main = /<main[^>]*>([\s\S]*)<\/main>/.exec(html)?.[1] ?? html
  let text = main
    .replace(/<(code|pre|script|style|time|textarea|option)[^>]*>[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&[a-z#0-9]+;/g, ' ')
    .replace(/\S+@\S+/g, ' ')
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/\bUTC\b/g, ' ')
  // What the tenant typed (robot and sender names, subjects) is theirs, in whatever language.
  for (const words of data) text = text.split(words).join(' ')
  const runs = text.match(/\b[A-Za-z][A-Za-z'’-]+(?:[\s,:;]+[A-Za-z][A-Za-z'’-]+){2,}\b/g) ?? []
  // Product names (Power Automate, Automation Anywhere, Control Room) stay as they are.
  // The catalogue's type words (string, number, boolean, date, required) are typed as they are.
  return runs.filter((run) => !/^(?:string|number|boolean|date|required)(?:[\s,:;]+(?:string|number|boolean|date|required))*$/.test(run)).filter((run) => !/^(?:Orchestrator|UiPath|API|JSON|CSV|XLSX|IMAP|SMTP|OAuth2|Microsoft|Google|Graph|Mailgun|SendGrid|Postfix|Exim|DKIM|DMARC|SPF|MIME|URL|HTTP|HTTPS|StartJobs|AddQueueItem|in_Attachments|in_Functions|Reference|Kill|SoftStop|Power|Automation|Control|mailrun)(?:[\s,:;]+(?:Orchestrator|UiPath|API|JSON|CSV|XLSX|IMAP|SMTP|OAuth2|Microsoft|Google|Graph|Mailgun|SendGrid|Postfix|Exim|DKIM|DMARC|SPF|MIME|URL|HTTP|HTTPS|and|or|Workspace|Automation|Automate|Anywhere|Control|Room|id|Cloud|Directory|mailrun))*$/.test(run))
}
