/** How robot names compare: case-insensitive, surrounding and repeated white space ignored. */
export function robotNameKey (name: string): string {
  return name.normalize('NFC').trim().replace(/\s+/gu, ' ').toLocaleLowerCase('und')
}
