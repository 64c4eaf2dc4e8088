"""The Lifeline client's side of a session: the customer's computer as the appliance knows it
(its details on the customer's connection), the customer's consent, recorded shells and
file transfers between the computer and the file store."""
