import type { OrchestratorClient } from './client.js'
import { odataString } from './endpoints.js'
import { call } from './http.js'

// Storage buckets, as a launch uses them: find the bucket by name, ask for a write URI for a path,
// send the bytes there, and delete a file a launch that gave up had uploaded.

export interface BlobAccess { Uri: string, Verb?: string, RequiresAuth?: boolean, Headers?: { Keys?: string[], Values?: string[] } }

export async function findBucket (client: OrchestratorClient, folderId: number, name: string): Promise<{ Id: number, Name: string } | null> {
  const filter = encodeURIComponent(`Name eq ${odataString(name)}`)
  const { body } = await client.odata<{ value: Array<{ Id: number, Name: string }> }>('GET', `/odata/Buckets?$filter=${filter}&$top=2`, { folderId })
  return body.value[0] ?? null
}

const bucketPath = (bucketId: number, action: string, path: string, extra = ''): string =>
  `/odata/Buckets(${bucketId})/UiPath.Server.Configuration.OData.${action}?path=${encodeURIComponent(path)}${extra}`

/**
 * The file's bytes to the bucket: Orchestrator answers where and how to send them (its own
 * endpoint, or a storage provider's signed URL with the headers it needs); the token goes along
 * only when it says so. The URI is checked against the outbound deny list like any other.
 */
export async function uploadToBucket (client: OrchestratorClient, folderId: number, bucketId: number, file: { path: string, contentType: string, content: Buffer }, timeoutMs: number): Promise<void> {
  const { body: access } = await client.odata<BlobAccess>('GET', bucketPath(bucketId, 'GetWriteUri', file.path, `&contentType=${encodeURIComponent(file.contentType)}`), { folderId })
  const keys = access.Headers?.Keys ?? []
  const values = access.Headers?.Values ?? []
  const headers: Record<string, string> = { 'content-type': file.contentType }
  keys.forEach((key, i) => { headers[key.toLowerCase()] = values[i] ?? '' })
  if (access.RequiresAuth === true) headers.authorization = `Bearer ${await client.token()}`
  await call(client.http, (access.Verb ?? 'PUT').toUpperCase() as 'PUT', access.Uri, { headers, body: file.content, timeoutMs })
}

export async function deleteFromBucket (client: OrchestratorClient, folderId: number, bucketId: number, path: string): Promise<void> {
  await client.odata('DELETE', bucketPath(bucketId, 'DeleteFile', path), { folderId })
}
