-- GEN-03 retrieval by the released EIP's id (AllocateEipAddress InstanceId):
-- which EIP released the address last. Set when an EIP is released; a later
-- holder does not clear it, but retrieval also checks the holder and the
-- last account, so a stale id retrieves nothing.
ALTER TABLE public_address ADD COLUMN last_eip_id TEXT;
CREATE INDEX public_address_last_eip ON public_address (last_eip_id) WHERE last_eip_id IS NOT NULL;
