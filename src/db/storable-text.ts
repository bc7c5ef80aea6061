import {
  OperationNodeTransformer,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  type ValueNode
} from 'kysely'

// PostgreSQL text and jsonb cannot hold U+0000, and jsonb refuses an escaped lone surrogate. Both
// arrive in mail that every MTA passes (a quoted-printable =00, an RFC 2047 word, a header byte),
// and in admin input. A value that cannot be stored would make its message undecidable forever,
// so every value bound to any query is made storable here, in one place: NUL becomes U+FFFD, as
// does a lone surrogate, in plain strings and inside JSON text bound for jsonb alike.

const REPLACEMENT = '\uFFFD'
// In JSON text: an escaped NUL, or an escaped surrogate (JSON.stringify writes lone ones so).
const ESCAPED_UNSTORABLE = /\\u(?:0000|d[89a-f][0-9a-f]{2})/i

/** The text with NUL and lone surrogates replaced by U+FFFD. */
export function storableText (text: string): string {
  const wellFormed = text.isWellFormed() ? text : text.toWellFormed()
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', REPLACEMENT) : wellFormed
}

function storableJson (value: unknown): unknown {
  if (typeof value === 'string') return storableText(value)
  if (Array.isArray(value)) return value.map(storableJson)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [storableText(k), storableJson(v)]))
  }
  return value
}

export function storableValue (value: unknown): unknown {
  if (typeof value !== 'string') return value
  const text = storableText(value)
  // JSON text for a jsonb column: the escaped forms are what PostgreSQL refuses there.
  if (ESCAPED_UNSTORABLE.test(text) && (text.startsWith('{') || text.startsWith('['))) {
    try {
      return JSON.stringify(storableJson(JSON.parse(text)))
    } catch {
      return text
    }
  }
  return text
}

class StorableTextTransformer extends OperationNodeTransformer {
  protected override transformValue (node: ValueNode): ValueNode {
    const value = storableValue(node.value)
    return value === node.value ? node : { ...node, value }
  }

  protected override transformPrimitiveValueList (node: PrimitiveValueListNode): PrimitiveValueListNode {
    return { ...node, values: node.values.map(storableValue) }
  }
}

export class StorableTextPlugin implements KyselyPlugin {
  readonly #transformer = new StorableTextTransformer()

  transformQuery (args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node)
  }

  async transformResult (args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result
  }
}
