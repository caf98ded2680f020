// Original file: proto/vigil/v1/vigil.proto


export interface AuditProofRequest {
}

export interface AuditProofRequest__Output {
}
