/** The document's example product, as command input (camelCase, no id or tenant). */
export const laptop = {
  sku: 'LAP-001',
  name: 'Laptop Computer',
  category: 'electronics',
  unitPrice: 1200,
  quantityOnHand: 100,
  reorderLevel: 10,
  reorderQuantity: 50,
  location: 'Warehouse A',
};
