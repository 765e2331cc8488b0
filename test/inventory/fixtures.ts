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

/** The same product as an HTTP body (POST /api/v1/products). */
export const laptopBody = {
  sku: laptop.sku,
  name: laptop.name,
  category: laptop.category,
  unit_price: laptop.unitPrice,
  quantity_on_hand: laptop.quantityOnHand,
  reorder_level: laptop.reorderLevel,
  reorder_quantity: laptop.reorderQuantity,
  location: laptop.location,
};
